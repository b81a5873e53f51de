"""Dataset tools over validated examples: statistics (tokens, roles, turns), dedupe and train/validation split.

Each works on a file that passes validation (load_examples); writes are atomic.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from skillstack.errors import InputError
from .formats import example_messages, has_images
from .jsonl import write_jsonl
from .tokens import context_length
from .validate import example_key, usable_report, validate_file

_BIN_EDGES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)


def histogram(counts: list[int]) -> dict[str, int]:
    """Counts per power-of-two bucket, labelled like "<=256" (the last bucket is ">32768")."""
    bins: Counter[str] = Counter()
    for count in counts:
        edge = next((e for e in _BIN_EDGES if count <= e), None)
        bins[f"<={edge}" if edge else f">{_BIN_EDGES[-1]}"] += 1
    order = [f"<={e}" for e in _BIN_EDGES] + [f">{_BIN_EDGES[-1]}"]
    return {label: bins[label] for label in order if bins[label]}


def _summary(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": ordered[0], "max": ordered[-1], "mean": round(statistics.fmean(ordered), 2),
            "p50": ordered[len(ordered) // 2], "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
            "total": sum(ordered)}


def dataset_stats(path: Path, *, tokenizer: Any = None) -> dict[str, Any]:
    """Examples, format, roles, turns per example and (with a tokenizer) the token distribution."""
    report = validate_file(path, tokenizer=tokenizer, truncate=True, exact_tokens=True)
    items = report.items
    roles: Counter[str] = Counter()
    turns: list[int] = []
    for example in items:
        messages = [m for m in example_messages(example) if isinstance(m, dict)]
        roles.update(str(m.get("role")) for m in messages)
        turns.append(sum(1 for m in messages if m.get("role") == "assistant"))
    stats: dict[str, Any] = {"file": str(path), "ok": report.ok, "examples": report.examples, "clean_examples": len(items),
                             "format": report.format, "errors": len(report.errors), "warnings": len(report.warnings),
                             "roles": dict(roles.most_common()), "vision_examples": sum(map(has_images, items)),
                             "assistant_turns": _summary(turns) if turns else None}
    if report.tokens:
        limit = context_length(tokenizer)
        stats["tokens"] = {**_summary(report.tokens), "limit": limit,
                           "over_limit": sum(1 for c in report.tokens if c > limit), "histogram": histogram(report.tokens)}
    return stats


def _clean(path: Path) -> list[dict[str, Any]]:
    return usable_report(path).items


def dedupe_examples(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples without repeats (first occurrence kept, order preserved)."""
    seen: set[bytes] = set()
    kept = []
    for example in examples:
        key = example_key(example)
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def dedupe_file(path: Path, output: Path) -> dict[str, int]:
    examples = _clean(path)
    kept = dedupe_examples(examples)
    write_jsonl(output, kept)
    return {"kept": len(kept), "removed": len(examples) - len(kept)}


def split_file(path: Path, train_out: Path, validation_out: Path, *, validation_fraction: float = 0.1,
               seed: int = 0) -> dict[str, int]:
    """Shuffle (seeded) and split into train and validation files; duplicates are dropped first so none straddle."""
    if not 0 < validation_fraction < 1:
        raise InputError(f"--validation-fraction must be between 0 and 1, got {validation_fraction}")
    examples = dedupe_examples(_clean(path))
    if len(examples) < 2:
        raise InputError(f"{path}: {len(examples)} distinct example(s); a split needs at least 2")
    random.Random(seed).shuffle(examples)
    held = min(len(examples) - 1, max(1, round(len(examples) * validation_fraction)))
    write_jsonl(validation_out, examples[:held])
    write_jsonl(train_out, examples[held:])
    return {"train": len(examples) - held, "validation": held}
