"""Rewriting a JSON Schema node by node: the walk every decoding-side schema rewrite shares.

structured.py bounds free-text strings, input_bound.py narrows `x-from-input` fields, schema_bounds.py
swaps bounded numbers for placeholders; each walks lists and objects alike and leaves the keywords whose
values are data (LITERALS) untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LITERALS = ("const", "enum", "default", "examples")  # keywords whose values are data, never sub-schemas


def rewrite(node: Any, visit: Callable[[dict[str, Any]], Any]) -> Any:
    """node with visit applied to every object in it, children first (literal values are not walked)."""
    if isinstance(node, list):
        return [rewrite(item, visit) for item in node]
    if not isinstance(node, dict):
        return node
    return visit({key: value if key in LITERALS else rewrite(value, visit) for key, value in node.items()})
