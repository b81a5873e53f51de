"""A rule across fields that JSON Schema cannot state: `x-items-sum`, a list's counts adding up to another field.

agent-status-json requires `tasks.failed` to equal the sum of the error counts; a small model writes
`"failed": 3` and then lists TIMEOUT x3 and an invented "failed" x5. An array node marked
`"x-items-sum": {"property": "count", "equals": "/tasks/failed"}` (`equals`: a JSON Pointer into the
answer, to a field decoded before the array) is enforced by local decoding once the target field and the
items' property are finite enums (as `x-from-input` makes them, input_bound.py): the decoding regex
branches on the target's value, and in the branch for total T the array can only be a list of counts
adding up to T. The target is decoded first (schema order), so from then on the decoder can neither close
the list short of the total nor open an item past it.

The regex is spelled by hand around outlines-core's (placeholders for the target and the array, as
schema_bounds.py does for numeric bounds): only the stretch from the target to the array is repeated per
total, and the lists share their prefixes (a trie), because the index's build time grows with the regex.
Lists are at most MAX_LENGTH long, shorter when the lists of that length would need more than MAX_ITEMS
item copies (a report with many small numbers has many ways to add up to each); left unenforced (the
plain regex) when either side is not an enum. Local decoding only: remote structured outputs get the schema without the keyword
(`without_item_sums`), and the rule stays with the skill's grader there.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .schema_bounds import bounded_regex
from .schema_walk import rewrite

KEYWORD = "x-items-sum"
MAX_ITEMS = 48  # item copies in the spelled-out lists over all totals (each repeats the item's regex; index build time)
MAX_LENGTH = 4  # longest list spelled out when the array sets no smaller maxItems
MAX_PARTS = 32  # distinct counts the input offers; past it the rule is left to the grader
_TARGET, _LIST = "SKILLSTACKSUMTARGET", "SKILLSTACKSUMLIST"  # alphanumeric: outlines-core quotes them verbatim


def item_sums_regex(schema: dict[str, Any], whitespace: str) -> str:
    """The decoding regex for schema (bounded_regex), with its first `x-items-sum` rule enforced when it can be."""
    found = _find(schema, ())
    if found is None:
        return bounded_regex(schema, whitespace)
    path, rule = found
    bare = without_item_sums(schema)
    array = _at(bare, path)
    target_path = tuple(part for name in str(rule.get("equals", "")).strip("/").split("/") for part in ("properties", name))
    item, prop = array.get("items"), rule.get("property")
    totals = _integers(_at(bare, target_path))
    counts = _integers(item.get("properties", {}).get(prop)) if isinstance(item, dict) else None
    if totals is None or counts is None:
        return bounded_regex(bare, whitespace)
    parts = tuple(sorted({n for n in counts if n > 0}))
    if array.get("minItems", 0) or len(parts) > MAX_PARTS:
        return bounded_regex(bare, whitespace)
    fitted = _longest_that_fits(parts, totals, min(array.get("maxItems", MAX_LENGTH), MAX_LENGTH))
    if fitted is None:
        return bounded_regex(bare, whitespace)
    longest, fewest, totals = fitted
    marked = copy.deepcopy(bare)
    _set(marked, target_path, {"const": _TARGET})
    _set(marked, path, {"const": _LIST})
    plain = bounded_regex(marked, whitespace)
    if plain.count(f'"{_TARGET}"') != 1 or plain.count(f'"{_LIST}"') != 1 or plain.index(_TARGET) > plain.index(_LIST):
        return bounded_regex(bare, whitespace)  # the target is not one field decoded before the array
    before, rest = plain.split(f'"{_TARGET}"')
    middle, after = rest.split(f'"{_LIST}"')
    items = {c: bounded_regex(item | {"properties": item["properties"] | {prop: {"const": c}}}, whitespace) for c in parts}
    comma = f"{whitespace},{whitespace}"

    def lists(remaining: int, room: int, first: bool) -> str:
        # every list of at most room items adding up to remaining
        if remaining == 0:
            return ""
        options = [("" if first else comma) + items[c] + lists(remaining - c, room - 1, False)
                   for c in parts if fewest.get(remaining - c, room) <= room - 1]
        return options[0] if len(options) == 1 else "(" + "|".join(options) + ")"

    branches = [f"{t}{middle}" + re.escape("[") + whitespace + lists(t, longest, True) + whitespace + re.escape("]")
                for t in totals]
    return before + "(" + "|".join(branches) + ")" + after


def without_item_sums(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """schema without any `x-items-sum` keyword (what remote decoders and validators are given)."""
    if not schema or _find(schema, ()) is None:
        return schema
    return rewrite(schema, lambda node: {key: value for key, value in node.items() if key != KEYWORD})


def _longest_that_fits(parts: tuple[int, ...], totals: list[int], longest: int
                       ) -> tuple[int, dict[int, int], list[int]] | None:
    """(list length, fewest parts per sum, reachable totals) for the longest lists within MAX_ITEMS item copies.

    A report with many small numbers has many ways to add up to each of them, so lists get shorter, not dropped.
    """
    for length in range(longest, 0, -1):
        fewest = _fewest_parts(parts, length, max(totals))
        reachable = [t for t in totals if t in fewest]
        if reachable and sum(_trie_size(t, parts, length, fewest) for t in reachable) <= MAX_ITEMS:
            return length, fewest, reachable
    return None


def _fewest_parts(parts: tuple[int, ...], longest: int, top: int) -> dict[int, int]:
    """Every sum up to top that at most longest parts reach, with the fewest parts reaching it (0 for 0)."""
    fewest, frontier = {0: 0}, {0}
    for size in range(1, longest + 1):
        frontier = {s + p for s in frontier for p in parts if s + p <= top} - fewest.keys()
        fewest |= dict.fromkeys(frontier, size)
    return fewest


def _trie_size(total: int, parts: tuple[int, ...], room: int, fewest: dict[int, int]) -> int:
    """Item copies in the lists of at most room parts adding up to total: one per trie edge."""
    return sum(1 + _trie_size(total - p, parts, room - 1, fewest)
               for p in parts if fewest.get(total - p, room) <= room - 1)


def _integers(node: Any) -> list[int] | None:
    values = node.get("enum") if isinstance(node, dict) else None
    if isinstance(values, list) and values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return values
    return None


def _find(node: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    if not isinstance(node, dict):
        return None
    if isinstance(node.get(KEYWORD), dict):
        return path, node[KEYWORD]
    for name, child in node.get("properties", {}).items():
        hit = _find(child, (*path, "properties", name))
        if hit:
            return hit
    return None


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _set(node: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
