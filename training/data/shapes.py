"""What a prompt or an answer looks like: a serialised table row (key=value, CSV-like, flat JSON) or a short label.

Pure predicates over one text; the dataset-level verdicts are in advise.py.
"""

from __future__ import annotations

import json
import re

MAX_LABEL_WORDS = 3
MAX_LABEL_CHARS = 40
MIN_FIELDS = 3
# Share of a row's values that must be numbers or short categories for it to read as a table row.
TABULAR_SHARE = 0.8

_PAIR = re.compile(r"^\s*[\w .()/-]{1,40}?\s*[=:]\s*(?P<value>\S.{0,60})$")
_FIELD_SPLIT = re.compile(r"[,;|\t\n]")
_NUMERIC = re.compile(r"^[-+]?[$€£]?\d+(?:[.,]\d+)*%?$")


def is_label(answer: str) -> bool:
    """A short single-line answer such as a class name, a yes/no or a number."""
    text = answer.strip()
    return bool(text) and "\n" not in text and len(text) <= MAX_LABEL_CHARS and len(text.split()) <= MAX_LABEL_WORDS


def _categorical(value: str) -> bool:
    value = value.strip().strip("\"'")
    return bool(_NUMERIC.match(value)) or (0 < len(value) <= 30 and len(value.split()) <= MAX_LABEL_WORDS)


def _json_values(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(value, dict) or len(value) < MIN_FIELDS:
        return None
    scalars = [str(v) for v in value.values() if isinstance(v, (str, int, float, bool)) or v is None]
    return scalars if len(scalars) >= TABULAR_SHARE * len(value) else None


def record_values(text: str) -> list[str] | None:
    """The field values when a text is one serialised record (JSON object, key=value pairs, CSV row), else None."""
    text = text.strip()
    if text.startswith("{"):
        return _json_values(text)
    fields = [f for f in _FIELD_SPLIT.split(text) if f.strip()]
    if len(fields) < MIN_FIELDS:
        return None
    pairs = [m.group("value") for f in fields if (m := _PAIR.match(f))]
    if len(pairs) >= TABULAR_SHARE * len(fields):
        return pairs
    # A CSV-like row: no keys, but every field short, and some of them numbers.
    if len(fields) > MIN_FIELDS and all(_categorical(f) for f in fields) and any(_NUMERIC.match(f.strip()) for f in fields):
        return fields
    return None


def is_table_row(text: str) -> bool:
    """A serialised record whose values are mostly numbers or short categories."""
    values = record_values(text)
    return values is not None and sum(map(_categorical, values)) >= TABULAR_SHARE * len(values)
