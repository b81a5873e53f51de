"""The json_schema grader (a skillstack addition): 1 when the output parses as JSON and meets the schema, else 0."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from skillstack.errors import ConfigError
from .base import BuildContext, Grader, common_fields, field_of, register_grader
from .templates import check_template, render


@dataclass(kw_only=True)
class JsonSchemaGrader(Grader):
    schema: dict[str, Any]
    input: str | None
    validator: Any

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        if self.input is None and sample.get("output_json") is not None:
            value = sample["output_json"]
        else:
            try:
                value = json.loads(render(self.input or "{{sample.output_text}}", sample, item))
            except (json.JSONDecodeError, RecursionError):
                return 0.0
        return 1.0 if self.validator.is_valid(value) else 0.0


def build(spec: dict[str, Any], context: BuildContext) -> JsonSchemaGrader:
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    schema = field_of(spec, "schema", dict)
    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise ConfigError(f"json_schema grader: the schema is invalid ({exc.message})") from exc
    template = field_of(spec, "input", str, default=None)
    return JsonSchemaGrader(**common_fields(spec), schema=schema, validator=cls(schema),
                            input=check_template(template, "json_schema.input") if template is not None else None)


register_grader("json_schema", build)
