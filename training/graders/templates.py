"""OpenAI grader templates: `{{item.x}}`, `{{sample.output_text}}`, `{{sample.output_json.x.y}}` substitution.

Pure functions. Paths walk dict keys and list indexes; non-string values render as compact JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from skillstack.errors import ConfigError, DatasetError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
ROOTS = ("item", "sample")


def placeholders(template: str) -> list[str]:
    """The dotted paths a template reads."""
    return _PLACEHOLDER.findall(template)


def check_template(template: Any, where: str) -> str:
    """The template itself, after checking it is a string whose placeholders start at item or sample."""
    if not isinstance(template, str):
        raise ConfigError(f"{where} must be a string template, got {type(template).__name__}")
    for path in placeholders(template):
        if path.split(".")[0] not in ROOTS:
            raise ConfigError(f"{where}: placeholder {{{{{path}}}}} must start with item. or sample.")
    return template


def lookup(path: str, sample: dict[str, Any], item: dict[str, Any]) -> Any:
    """The value at a dotted path such as item.answer or sample.output_json.score."""
    root, *parts = path.split(".")
    value: Any = {"item": item, "sample": sample}[root]
    for depth, part in enumerate(parts):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            walked = ".".join([root, *parts[:depth + 1]])
            raise DatasetError(f"template value {{{{{path}}}}} is missing ({walked} not found); "
                               "add the field to the data or fix the grader")
    return value


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def render(template: str, sample: dict[str, Any], item: dict[str, Any]) -> str:
    """The template with every placeholder replaced by its value."""
    return _PLACEHOLDER.sub(lambda m: as_text(lookup(m.group(1), sample, item)), template)
