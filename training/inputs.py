"""Datasets as the trainers take them: validated first, then checked to be the method's format.

Holds the gate between a JSONL file and a training run; the rules themselves live in data/validate.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError

METHOD_FORMATS = {"sft": "chat", "dpo": "preference", "rft": "reinforcement"}


def load_training_examples(path: Path, method: str) -> list[dict[str, Any]]:
    """Validated examples of `path` for `method`; DatasetError (naming `skillstack data validate`) otherwise."""
    from .data.validate import load_examples

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file")
    return load_examples(path, format=METHOD_FORMATS[method])


__all__ = ["METHOD_FORMATS", "load_training_examples"]
