"""The string_check grader: eq, ne, like (contains) and ilike (contains, ignoring case); scores 1 or 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import BuildContext, Grader, common_fields, field_of, register_grader
from .templates import check_template, render

OPERATIONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "like": lambda a, b: b in a,
    "ilike": lambda a, b: b.casefold() in a.casefold(),
}


@dataclass(kw_only=True)
class StringCheck(Grader):
    input: str
    reference: str
    operation: str

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        text, reference = render(self.input, sample, item), render(self.reference, sample, item)
        return 1.0 if OPERATIONS[self.operation](text, reference) else 0.0


def build(spec: dict[str, Any], context: BuildContext) -> StringCheck:
    return StringCheck(**common_fields(spec), input=check_template(field_of(spec, "input", str), "string_check.input"),
                       reference=check_template(field_of(spec, "reference", str), "string_check.reference"),
                       operation=field_of(spec, "operation", str, choices=tuple(OPERATIONS)))


register_grader("string_check", build)
