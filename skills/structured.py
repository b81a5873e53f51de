"""Constrained decoding (outlines-core) for JSON skills and classify skills, and JSON Schema checks (jsonschema).

The JSON constraint makes invalid JSON impossible token by token, but a max_tokens cut can still
end a document early, and numeric bounds beyond small integer ranges escape its regex; callers
validate every answer with `parse_and_validate` and retry. The label constraint (`label_constraint`)
lets a classify skill say exactly one of its labels and then stop.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from skillstack.errors import OutputValidationError, SkillError
from .input_bound import check_marks
from .schema_walk import rewrite

# Compact JSON only: with the default free whitespace a small model can pad forever.
_WHITESPACE = r"[ ]?"
_lock = threading.Lock()
_vocabularies: dict[int, Any] = {}
# Bounded: x-from-input fields (input_bound.py) give each request its own regex.
_indexes: OrderedDict[tuple[int, str], Any] = OrderedDict()
_MAX_INDEXES = 64


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
    try:
        check_marks(schema)
    except SkillError as exc:
        raise SkillError(f"{path}: {exc}") from exc
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


def decoding_schema(schema: Any, max_chars: int | None) -> Any:
    """schema as the decoder needs it: free-text strings (no maxLength, pattern, format, enum or const) get
    maxLength max_chars (numeric bounds are the regex's job: schema_bounds.py).

    For decoding only (answers are validated against the schema itself): a small model can repeat inside
    a string until max_tokens cuts the document, and a bounded string must close.
    """
    def bound(node: dict[str, Any]) -> dict[str, Any]:
        free = node.get("type") == "string" and not {"maxLength", "pattern", "format", "enum", "const"} & set(node)
        return node | {"maxLength": max_chars} if free and max_chars else node

    return rewrite(schema, bound)


def _regex_constraint(tokenizer: Any, regex: str) -> Any:
    """A fresh single-row logits processor for regex; the (costly) index is built once per tokenizer and regex."""
    from outlines.backends.outlines_core import OutlinesCoreLogitsProcessor
    from outlines_core import Index

    key = (id(tokenizer), regex)
    with _lock:
        if key not in _indexes:
            _indexes[key] = Index(regex, _vocabulary(tokenizer))
            if len(_indexes) > _MAX_INDEXES:
                _indexes.popitem(last=False)
        _indexes.move_to_end(key)
        index = _indexes[key]
    return OutlinesCoreLogitsProcessor(index, "torch")


def json_constraint(tokenizer: Any, schema: dict[str, Any], *, max_string: int | None = None) -> Any:
    """A fresh single-row logits processor that only allows JSON valid under schema, numeric bounds and
    `x-items-sum` rules included (index cached per schema); max_string bounds free-text strings (decoding_schema)."""
    from .item_sums import item_sums_regex

    # minimum/maximum too, which outlines-core's schema-to-regex step drops; and x-items-sum, which no schema states.
    return _regex_constraint(tokenizer, item_sums_regex(decoding_schema(schema, max_string), _WHITESPACE))


def labels_regex(labels: list[str] | tuple[str, ...]) -> str:
    """A regex matching exactly one of labels (every non-alphanumeric character escaped)."""
    # re.escape's escapes (\\ before punctuation and space) are ones the Rust regex syntax of outlines-core accepts.
    return "(" + "|".join(re.escape(label) for label in labels) + ")"


def label_constraint(tokenizer: Any, labels: list[str] | tuple[str, ...]) -> Any:
    """A fresh single-row logits processor that only allows one of labels, exactly, then the end of the answer."""
    return _regex_constraint(tokenizer, labels_regex(labels))


def check_label(text: str, labels: list[str] | tuple[str, ...]) -> str:
    """text as one of labels (surrounding whitespace ignored); OutputValidationError otherwise."""
    label = text.strip()
    if label not in labels:
        raise OutputValidationError(f"output {text[:80]!r} is none of the skill's {len(labels)} labels")
    return label
