"""JSON fields a skill must copy from its input: the schema keyword `x-from-input` and its per-request rewrite.

A small model invents values its input never gave (an error "FAILED" x5 where the report says "3 failed
with TIMEOUT") or cuts an id ("in-worker-3" for "ingest-worker-3"). A schema node marked
`"x-from-input": true` is narrowed, for decoding only, to the values the request's own text holds:
- a string: the input's words (runs of letters, digits and `_ - . : /`, trailing punctuation trimmed),
  each kept only if it matches the node's `pattern`; lower-cased forms are offered too, so an id
  written "Billing-Sync-2" can still fill a lower-case pattern;
- an integer: every number the input writes, in digits ("1,200", "x4") or words ("forty-two", "twice"),
  and 0 (what a report that does not mention a count means), kept within the node's bounds.
The narrowed node becomes an `enum`, which every constrained decoder enforces (outlines-core here,
structured outputs on vLLM and OpenAI). Answers are still validated against the schema as written,
so the keyword never rejects a value by itself; a node with no candidate, or more than MAX_CANDIDATES, is
left unconstrained.
"""

from __future__ import annotations

import re
from typing import Any

from skillstack.spelled_numbers import as_digits
from .schema_walk import rewrite

KEYWORD = "x-from-input"
# Past this many values a field stays free: the decoder's index grows with the enum, and a long input is a
# document to read, not a report to copy from.
MAX_CANDIDATES = 256
_WORD = re.compile(r"\w[\w\-.:/]*")
_DIGITS = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+")
# Counts written as adverbs, which text2num leaves alone.
_ADVERBS = {"once": 1, "twice": 2, "thrice": 3}


def input_text(messages: list[dict[str, Any]]) -> str:
    """What the user wrote: every user turn's text, in order (system prompts and replies are not input)."""
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")


def bind_to_input(schema: dict[str, Any] | None, text: str) -> dict[str, Any] | None:
    """schema with every `x-from-input` node narrowed to the values text holds (the keyword itself removed)."""
    def narrow(node: dict[str, Any]) -> dict[str, Any]:
        if node.get(KEYWORD) is not True:
            return node
        out = {key: value for key, value in node.items() if key != KEYWORD}
        values = _candidates(out, text)
        if 0 < len(values) <= MAX_CANDIDATES:
            return {key: value for key, value in out.items() if key not in ("type", "pattern")} | {"enum": values}
        return out

    return rewrite(schema, narrow) if schema and _marked(schema) else schema


def _marked(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get(KEYWORD) is True or any(_marked(value) for value in node.values())
    return isinstance(node, list) and any(_marked(item) for item in node)


def _candidates(node: dict[str, Any], text: str) -> list[Any]:
    kind = node.get("type")
    if kind == "string":
        pattern = re.compile(node["pattern"]) if "pattern" in node else None
        return [w for w in words(text) if pattern is None or pattern.search(w)]
    if kind == "integer":
        lo, hi = node.get("minimum"), node.get("maximum")
        return [n for n in numbers(text) if (lo is None or n >= lo) and (hi is None or n <= hi)]
    return []


def words(text: str) -> list[str]:
    """The input's words, each once, in first-seen order, then their lower-cased forms not already there."""
    found = [w.rstrip("-.:/") for w in _WORD.findall(text)]
    exact = list(dict.fromkeys(w for w in found if w))
    seen = set(exact)
    return exact + [w for w in dict.fromkeys(w.lower() for w in exact) if w not in seen]


def numbers(text: str) -> list[int]:
    """Every whole number the input writes, in digits or in English words, and 0; each once, ascending."""
    found = {0}
    for form in (text, as_digits(text)):  # a stray "no one" -> "no 1" only widens the candidates
        found.update(int(match.replace(",", "")) for match in _DIGITS.findall(form))
    found.update(n for word, n in _ADVERBS.items() if re.search(rf"\b{word}\b", text, re.IGNORECASE))
    return sorted(found)
