"""Numeric bounds for constrained decoding: the JSON Schema `minimum`/`maximum` that outlines-core drops, as regexes.

outlines-core turns every integer into `-?(0|[1-9][0-9]*)` whatever its bounds, so a skill could be
forced into `"count": 0` under `minimum: 1` and fail validation on every retry. `bounded_regex` builds
the decoding regex with each bounded integer/number node swapped for a placeholder constant, then puts
an exact range regex in the placeholder's place. Integers take any integer bounds (exclusive ones
included). Numbers take integer-valued `minimum`/`maximum` (integer part in range, a fraction only below
the maximum, no exponent); a fractional or exclusive bound on a number stays with `parse_and_validate`.
Not here: the index and the logits processor (structured.py).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from skillstack.errors import SkillError
from .schema_walk import LITERALS

_PLACEHOLDER = "SKILLSTACKBOUND{}"  # alphanumeric, so outlines-core quotes it without escaping
_FRACTION = r"(\.[0-9]+)?"


def _same_length(lo: str, hi: str) -> str:
    """Regex for the decimal strings of equal length between lo and hi (inclusive, lo <= hi)."""
    if not lo:
        return ""
    if lo == "0" * len(lo) and hi == "9" * len(hi):
        return f"[0-9]{{{len(lo)}}}" if len(lo) > 1 else "[0-9]"
    if lo[0] == hi[0]:
        return lo[0] + _same_length(lo[1:], hi[1:])
    rest = len(lo) - 1
    parts = [lo[0] + _same_length(lo[1:], "9" * rest)]
    if int(hi[0]) - int(lo[0]) > 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(hi[0] + _same_length("0" * rest, hi[1:]))
    return "(" + "|".join(parts) + ")"


def natural_range(lo: int, hi: int | None) -> str:
    """Regex for the integers lo..hi written without sign or leading zeros (0 <= lo; hi None: no upper bound)."""
    parts = []
    top = len(str(hi)) if hi is not None else len(str(lo))
    for length in range(len(str(lo)), top + 1):
        first = 0 if length == 1 else 10 ** (length - 1)
        start, end = max(lo, first), min(hi, 10 ** length - 1) if hi is not None else 10 ** length - 1
        if start <= end:
            parts.append(_same_length(str(start), str(end)))
    if hi is None:  # every longer number
        parts.append(f"[1-9][0-9]{{{len(str(lo))},}}")
    return "(" + "|".join(parts) + ")"


def integer_range(lo: int | None, hi: int | None) -> str:
    """Regex for the JSON integers in [lo, hi] (None: unbounded on that side)."""
    parts = []
    if hi is None or hi >= 0:
        parts.append(natural_range(max(lo or 0, 0), hi))
    if lo is None or lo < 0:  # negatives: "-" and a magnitude in [max(1, -hi), -lo]
        parts.append("-" + natural_range(max(1, -hi) if hi is not None else 1, -lo if lo is not None else None))
    return "(" + "|".join(parts) + ")"


def number_range(lo: int | None, hi: int | None) -> str | None:
    """Regex for JSON numbers in [lo, hi] with integer bounds, non-negative lower bound; None when not expressible here."""
    if lo is None or lo < 0:
        return None
    if hi is None:
        return f"{natural_range(lo, None)}{_FRACTION}"
    below = f"{natural_range(lo, hi - 1)}{_FRACTION}|" if hi > lo else ""
    return f"({below}{natural_range(hi, hi)}(\\.0+)?)"


def _integer_bound(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() else None


def _range_regex(node: dict[str, Any], kind: str) -> str | None:
    """The range regex for one bounded integer/number node, or None to leave it to validation."""
    lo, hi = _integer_bound(node.get("minimum")), _integer_bound(node.get("maximum"))
    if kind == "integer":
        exclusive_lo, exclusive_hi = _integer_bound(node.get("exclusiveMinimum")), _integer_bound(node.get("exclusiveMaximum"))
        if exclusive_lo is not None:
            lo = max(lo, exclusive_lo + 1) if lo is not None else exclusive_lo + 1
        if exclusive_hi is not None:
            hi = min(hi, exclusive_hi - 1) if hi is not None else exclusive_hi - 1
    if lo is not None and hi is not None and hi < lo:
        raise SkillError(f"JSON Schema bounds admit no value: minimum {lo} is above maximum {hi}")
    if kind == "integer":
        return integer_range(lo, hi) if lo is not None or hi is not None else None
    return number_range(lo, hi) if lo is not None or hi is not None else None


def _replace(node: Any, regexes: list[str]) -> Any:
    if isinstance(node, list):
        return [_replace(child, regexes) for child in node]
    if not isinstance(node, dict):
        return node
    types = node.get("type")
    listed = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    numeric = [t for t in listed if t in ("integer", "number")]
    if len(numeric) == 1 and any(key in node for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
        regex = _range_regex(node, numeric[0])
        if regex is not None:
            regexes.append(regex)
            placeholder = {"const": _PLACEHOLDER.format(len(regexes) - 1)}
            others = [t for t in types if t != numeric[0]] if isinstance(types, list) else []
            return {"anyOf": [placeholder, *({"type": t} for t in others)]} if others else placeholder
    return {key: (value if key in LITERALS else _replace(value, regexes))
            for key, value in node.items()}


def bounded_regex(schema: dict[str, Any], whitespace: str) -> str:
    """outlines-core's regex for schema, with every expressible numeric bound enforced."""
    from outlines_core.json_schema import build_regex_from_schema

    regexes: list[str] = []
    rewritten = _replace(copy.deepcopy(schema), regexes)
    regex = build_regex_from_schema(json.dumps(rewritten), whitespace)
    for number, bound in enumerate(regexes):
        regex = regex.replace(f'"{_PLACEHOLDER.format(number)}"', bound)
    return regex


__all__ = ["bounded_regex", "integer_range", "natural_range", "number_range"]
