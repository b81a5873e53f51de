"""JSON skills: schema loading and validation (jsonschema) and constrained decoding (outlines-core).

The constraint makes invalid JSON impossible token by token, but a max_tokens cut can still
end a document early; callers validate every answer with `parse_and_validate` and retry.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from skillstack.errors import OutputValidationError, SkillError

# Compact JSON only: with the default free whitespace a small model can pad forever.
_WHITESPACE = r"[ ]?"
_lock = threading.Lock()
_vocabularies: dict[int, Any] = {}
_indexes: dict[tuple[int, str], Any] = {}


def load_schema(path: Path) -> dict[str, Any]:
    """Read a JSON Schema file and check that it is itself a valid schema."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SkillError(f"{path}: not a readable JSON file ({exc})") from exc
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise SkillError(f"{path}: not a valid JSON Schema ({exc.message})") from exc
    return schema


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every way value breaks schema, as 'path: message' lines (empty when valid)."""
    from jsonschema import Draft202012Validator

    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in Draft202012Validator(schema).iter_errors(value)]


def parse_and_validate(text: str, schema: dict[str, Any]) -> Any:
    """The parsed JSON value of text if it satisfies schema; OutputValidationError otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputValidationError(f"output is not JSON ({exc.msg} at char {exc.pos}): {text[:120]!r}") from exc
    errors = schema_errors(value, schema)
    if errors:
        raise OutputValidationError(f"output breaks the JSON Schema: {'; '.join(errors[:3])}")
    return value


def schema_from(spec: Any) -> dict[str, Any]:
    """A JSON Schema dict from a dict, a pydantic model class, or a TypedDict/dataclass via LangChain."""
    if isinstance(spec, dict):
        return spec
    if hasattr(spec, "model_json_schema"):
        return spec.model_json_schema()
    from langchain_core.utils.function_calling import convert_to_json_schema

    return convert_to_json_schema(spec)


def _vocabulary(tokenizer: Any) -> Any:
    from outlines.backends.outlines_core import OutlinesCoreBackend
    from outlines.models.transformers import TransformerTokenizer

    key = id(tokenizer)
    if key not in _vocabularies:
        wrapped = TransformerTokenizer(tokenizer)
        _vocabularies[key] = OutlinesCoreBackend.create_outlines_core_vocabulary(
            tokenizer.get_vocab(), tokenizer.eos_token_id, tokenizer.eos_token, wrapped.convert_token_to_string)
    return _vocabularies[key]


def json_constraint(tokenizer: Any, schema: dict[str, Any]) -> Any:
    """A fresh single-row logits processor that only allows JSON valid under schema, numeric bounds included (index cached per schema)."""
    from outlines.backends.outlines_core import OutlinesCoreLogitsProcessor
    from outlines_core import Index

    from .schema_bounds import bounded_regex

    # Not sort_keys: the regex follows the schema's property order, which is the key order skills are trained on.
    schema_text = json.dumps(schema)
    key = (id(tokenizer), schema_text)
    with _lock:
        if key not in _indexes:
            regex = bounded_regex(schema, _WHITESPACE)  # minimum/maximum too, which outlines-core drops
            _indexes[key] = Index(regex, _vocabulary(tokenizer))
        index = _indexes[key]
    return OutlinesCoreLogitsProcessor(index, "torch")
