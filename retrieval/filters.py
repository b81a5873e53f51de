"""Chroma-style metadata filters ("where" dicts) checked in Python, for the BM25 side of search.

Supports {"key": value}, {"key": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte"|"$in"|"$nin": ...}},
{"$and": [...]}, {"$or": [...]}: the subset Chroma accepts for metadata, so one filter serves both sides.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from skillstack.errors import InputError

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq, "$ne": operator.ne, "$gt": operator.gt, "$gte": operator.ge,
    "$lt": operator.lt, "$lte": operator.le,
    "$in": lambda value, options: value in options, "$nin": lambda value, options: value not in options,
}


def matches(metadata: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    """Whether one chunk's metadata satisfies a Chroma-style where filter (None matches all)."""
    if not where:
        return True
    return all(_clause(metadata, key, condition) for key, condition in where.items())


def _clause(metadata: Mapping[str, Any], key: str, condition: Any) -> bool:
    if key == "$and":
        return all(matches(metadata, part) for part in condition)
    if key == "$or":
        return any(matches(metadata, part) for part in condition)
    if key.startswith("$"):
        raise InputError(f"filter: unknown operator {key!r} (use $and, $or or a metadata key)")
    if not isinstance(condition, Mapping):
        condition = {"$eq": condition}
    value = metadata.get(key)
    for op, expected in condition.items():
        if op not in _COMPARE:
            raise InputError(f"filter on {key!r}: unknown operator {op!r} (use one of {', '.join(_COMPARE)})")
        if value is None:
            if op not in ("$ne", "$nin"):
                return False
            continue
        try:
            if not _COMPARE[op](value, expected):
                return False
        except TypeError:
            return False
    return True


def parse_filter_args(items: list[str]) -> dict[str, Any] | None:
    """CLI `--filter key=value` pairs into a where dict (all must hold)."""
    clauses = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--filter {item!r}: expected key=value, e.g. --filter article=33")
        clauses.append({key.strip(): value.strip()})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
