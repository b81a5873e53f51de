"""The dataset validator: a whole file in, a Report of every finding out; and load_examples for trainers.

Line rules are in jsonl.py, per-example rules in checks.py; this module adds the file-level
rules: example counts, token limits, duplicates and train/validation overlap.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError, InputError
from .checks import check_example
from .findings import Finding
from .formats import FORMATS, detect_format
from .jsonl import MAX_LINE_BYTES, read_jsonl
from .tokens import context_length, count_tokens

MIN_EXAMPLES = 10  # OpenAI refuses fewer
RECOMMENDED_EXAMPLES = 50
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Report:
    """What the validator found. `examples` counts lines holding a JSON value; `items` are the clean ones."""

    path: Path
    ok: bool
    examples: int
    format: str
    errors: list[Finding]
    warnings: list[Finding]
    items: list[dict[str, Any]] = field(default_factory=list, repr=False)
    item_lines: list[int] = field(default_factory=list, repr=False)
    tokens: list[int] | None = field(default=None, repr=False)  # per clean example, with exact_tokens

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "examples": self.examples, "format": self.format,
                "errors": [f.to_dict() for f in self.errors], "warnings": [f.to_dict() for f in self.warnings]}


def example_key(example: Any) -> bytes:
    """A digest equal for equal examples whatever their key order or spacing (used for dedupe and overlap)."""
    canonical = _CANONICAL.encode(example)
    return hashlib.blake2b(canonical.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _read(path: Path, max_line_bytes: int) -> tuple[list[tuple[int, Any]], list[Finding], list[Finding]]:
    if not path.is_file():
        raise InputError(f"{path}: no such file; pass a JSONL dataset")
    values: list[tuple[int, Any]] = []
    errors: list[Finding] = []
    warnings: list[Finding] = []
    for number, value, line_errors, line_warnings in read_jsonl(path, max_line_bytes=max_line_bytes):
        errors += line_errors
        warnings += line_warnings
        if not line_errors:
            values.append((number, value))
    return values, errors, warnings


def _safe_key(example: Any) -> bytes | None:
    try:
        return example_key(example)
    except (RecursionError, ValueError):  # nesting the parser accepted but the encoder refuses
        return None


def validate_file(path: Path | str, *, tokenizer: Any = None, max_tokens: int | None = None, truncate: bool = False,
                  validation_path: Path | str | None = None, format: str | None = None,
                  max_line_bytes: int = MAX_LINE_BYTES, exact_tokens: bool = False) -> Report:
    """Validate a JSONL dataset line by line; never raises on content, only on a missing file or bad arguments.

    tokenizer: count tokens with it (the base model's) and flag examples over max_tokens (default: its context);
    over-long examples are errors unless truncate. exact_tokens: count every example (Report.tokens), not only
    those that might be over the limit. format: force chat|preference|reinforcement instead of detecting.
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown dataset format {format!r}; use one of {', '.join(FORMATS)}")
    values, errors, warnings = _read(path, max_line_bytes)
    fmt = format or detect_format(value for _, value in values)

    items: list[dict[str, Any]] = []
    lines: list[int] = []
    first_seen: dict[bytes, int] = {}
    for number, value in values:
        try:
            line_errors, line_warnings = check_example(value, number, fmt)
        except RecursionError:
            line_errors, line_warnings = [Finding(number, "too_deep", "JSON nested too deeply to check")], []
        errors += line_errors
        warnings += line_warnings
        if line_errors:
            continue
        key = _safe_key(value)
        if key is None:
            errors.append(Finding(number, "too_deep", "JSON nested too deeply to check"))
            continue
        if key in first_seen:
            warnings.append(Finding(number, "duplicate_example", f"same as line {first_seen[key]}; remove it or run `skillstack data dedupe`"))
        else:
            first_seen[key] = number
        items.append(value)
        lines.append(number)

    if len(values) < MIN_EXAMPLES:
        errors.append(Finding(0, "too_few_examples", f"{len(values)} example(s); at least {MIN_EXAMPLES} are needed"))
    elif len(values) < RECOMMENDED_EXAMPLES:
        warnings.append(Finding(0, "few_examples", f"{len(values)} examples; {RECOMMENDED_EXAMPLES}+ usually train much better"))

    tokens = None
    if tokenizer is not None and items:
        limit = max_tokens or context_length(tokenizer)
        counts = count_tokens(tokenizer, items, fmt, skip_at_most=None if exact_tokens else limit)
        tokens = counts if exact_tokens else None
        for number, count in zip(lines, counts):
            if count is not None and count > limit:
                finding = Finding(number, "too_many_tokens", f"{count} tokens, over the limit of {limit}"
                                  + ("; will be truncated" if truncate else "; shorten it or pass --truncate"))
                (warnings if truncate else errors).append(finding)

    if validation_path is not None:
        held_out, _, _ = _read(Path(validation_path), max_line_bytes)
        held_lines = {key: number for number, value in held_out if (key := _safe_key(value)) is not None}
        for number, value in zip(lines, items):
            other = held_lines.get(example_key(value))
            if other is not None:
                errors.append(Finding(number, "train_validation_overlap",
                                      f"also line {other} of {Path(validation_path).name}; validation loss would be flattered"))

    errors.sort(key=lambda f: f.line)
    warnings.sort(key=lambda f: f.line)
    return Report(path=path, ok=not errors, examples=len(values), format=fmt, errors=errors, warnings=warnings,
                  items=items, item_lines=lines, tokens=tokens)


def usable_report(path: Path | str) -> Report:
    """The report of a file whose every line is a usable example (too few examples is allowed);
    InputError naming the file and the first bad line otherwise. For tools that read, not train."""
    report = validate_file(path)
    blocking = [f for f in report.errors if f.code != "too_few_examples"]
    if blocking:
        raise InputError(f"{path}: {len(blocking)} problem(s), first at {blocking[0]}; run `skillstack data validate {path}`")
    return report


def load_examples(path: Path | str, *, format: str | None = None, tokenizer: Any = None, max_tokens: int | None = None,
                  truncate: bool = False) -> list[dict[str, Any]]:
    """The examples of a clean dataset, for trainers; DatasetError (first finding + how to see all) otherwise."""
    report = validate_file(path, format=format, tokenizer=tokenizer, max_tokens=max_tokens, truncate=truncate)
    if not report.ok:
        first = report.errors[0]
        raise DatasetError(f"{path}: {len(report.errors)} problem(s) as {report.format} data, first at {first}; "
                           f"run `skillstack data validate {path}` to see them all")
    return report.items
