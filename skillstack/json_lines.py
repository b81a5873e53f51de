"""Small JSONL files skillstack reads itself (router feedback, demo tasks): one JSON object per line.

Each bad line is one InputError naming `file:line` and what the line must hold, so a user fixes it at
once. Not here: training datasets, whose validator reports every finding instead of stopping at the
first (training/data/jsonl.py), nor `--input` batches, where a bad line fails only itself (cli/common.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillstack.errors import InputError


def object_lines(path: Path, shape: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`file:line`, object) for every non-blank line; shape says what a line must be, for the error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); fix or replace the file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc.msg}); fix or delete the line") from exc
        if not isinstance(data, dict):
            raise InputError(f"{where}: each line must be an object with {shape}")
        yield where, data
