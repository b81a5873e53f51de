"""JSON fields a skill must copy from its input: the schema keyword `x-from-input` and its per-request rewrite.

A small model invents values its input never gave (an error "FAILED" x5 where the report says "3 failed
with TIMEOUT") or cuts an id ("in-worker-3" for "ingest-worker-3"). A schema node marked
`"x-from-input": true` is narrowed, for decoding only, to the values the request's own text holds:
- a string: the input's words (runs of letters, digits and `_ - . : /`, trailing punctuation trimmed),
  each kept only if it matches the node's `pattern`; lower-cased forms are offered too, so an id
  written "Billing-Sync-2" can still fill a lower-case pattern;
- an integer: every number the input writes, in digits ("1,200", "x4") or words ("forty-two", "twice"),
  and 0 (what a report that does not mention a count means), kept within the node's bounds;
- a duration, marked with its unit (`"x-from-input": "ms"`, or "s", "us", "min"): every number the input
  writes, converted from the time unit written right after it ("1.2 s" -> 1200, "850 µs" -> 0.85 in ms) or
  as written when none follows ("p95_ms=64"), and null where the type allows it. A small model converts
  units badly (12000 for "1.2 seconds", 15000 for "15 ms"); here it only chooses which number is meant.
The narrowed node becomes an `enum`, which every constrained decoder enforces (outlines-core here,
structured outputs on vLLM and OpenAI). Answers are still validated against the schema as written,
so the keyword never rejects a value by itself; a node with no candidate, or more than MAX_CANDIDATES, is
left unconstrained.
"""

from __future__ import annotations

import re
from typing import Any

from skillstack.errors import SkillError
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
# Time units as people write them, in milliseconds. (training/demo_skills/status_rules.py keeps its own table:
# a python grader runs in isolation and imports only the standard library.)
_MS = {"ms": 1.0, "msec": 1.0, "msecs": 1.0, "millisecond": 1.0, "milliseconds": 1.0,
       "us": 0.001, "µs": 0.001, "μs": 0.001, "microsecond": 0.001, "microseconds": 0.001,
       "s": 1000.0, "sec": 1000.0, "secs": 1000.0, "second": 1000.0, "seconds": 1000.0,
       "min": 60000.0, "mins": 60000.0, "minute": 60000.0, "minutes": 60000.0,
       "h": 3600000.0, "hr": 3600000.0, "hrs": 3600000.0, "hour": 3600000.0, "hours": 3600000.0}
_FIELD_UNITS = ("ms", "s", "us", "min")  # what a marked duration field may hold
# A quantity stands alone: "p95" and "95th" name a percentile, "v2.7" a version, "ocr-2" an agent.
_QUANTITY = re.compile(r"(?<![\w.,-])(" + _DIGITS.pattern + r")(\.\d+)?(?:\s?("
                       + "|".join(sorted(map(re.escape, _MS), key=len, reverse=True)) + r")(?!\w)|(?![\w.,]\w))",
                       re.IGNORECASE)


def input_text(messages: list[dict[str, Any]]) -> str:
    """What the user wrote: every user turn's text, in order (system prompts and replies are not input)."""
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")


def bind_to_input(schema: dict[str, Any] | None, text: str) -> dict[str, Any] | None:
    """schema with every `x-from-input` node narrowed to the values text holds (the keyword itself removed)."""
    def narrow(node: dict[str, Any]) -> dict[str, Any]:
        if not _is_mark(node.get(KEYWORD)):
            return node
        out = {key: value for key, value in node.items() if key != KEYWORD}
        values = _candidates(node, text)
        if 0 < len(values) <= MAX_CANDIDATES:
            return {key: value for key, value in out.items() if key not in ("type", "pattern")} | {"enum": values}
        return out

    return rewrite(schema, narrow) if schema and _marked(schema) else schema


def check_marks(schema: dict[str, Any]) -> None:
    """SkillError if some `x-from-input` names a unit a duration field cannot hold (checked when a schema loads)."""
    def check(node: dict[str, Any]) -> dict[str, Any]:
        _is_mark(node.get(KEYWORD))
        return node

    rewrite(schema, check)


def _is_mark(value: Any) -> bool:
    if isinstance(value, str) and value not in _FIELD_UNITS:
        raise SkillError(f"schema keyword {KEYWORD!r} names the unit {value!r}: use true or one of "
                         + ", ".join(_FIELD_UNITS))
    return value is True or isinstance(value, str)


def _marked(node: Any) -> bool:
    if isinstance(node, dict):
        return _is_mark(node.get(KEYWORD)) or any(_marked(value) for value in node.values())
    return isinstance(node, list) and any(_marked(item) for item in node)


def _candidates(node: dict[str, Any], text: str) -> list[Any]:
    kind = node.get("type")
    if isinstance(node[KEYWORD], str):
        lo = node.get("minimum")
        found = [n for n in durations(text, node[KEYWORD]) if lo is None or n >= lo]
        return ([None] if isinstance(kind, list) and "null" in kind else []) + found
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


def durations(text: str, unit: str = "ms") -> list[int | float]:
    """Every number the input writes, in `unit`: converted from the time unit that follows it ("1.2 s" ->
    1200 in ms), as written when none does; in digits or words, each once, ascending."""
    found: set[float] = set()
    for form in (text, as_digits(text)):
        for whole, fraction, written in _QUANTITY.findall(form):
            value = float(whole.replace(",", "") + fraction)
            if written:
                value *= _MS[written.lower()] / _MS[unit]
            found.add(round(value, 6))
    return [int(v) if v.is_integer() else v for v in sorted(found)]
