"""Datasets as the trainers take them: validated first, then checked to be the method's format.

Holds the gate between a job's JSONL files and a training run; the rules themselves live in
data/validate.py, each method's format in its registration (methods.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError
from .methods import TrainJob, get_method


def load_training_examples(path: Path, data_format: str) -> list[dict[str, Any]]:
    """Validated examples of `path` in `data_format`; DatasetError (naming `skillstack data validate`) otherwise."""
    from .data.validate import load_examples

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file")
    return load_examples(path, format=data_format)


def load_job_examples(job: TrainJob) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training, validation) examples of a job in its method's format, once its skill spec passed its check."""
    job.skill.check()
    data_format = get_method(job.config.method).data_format
    train = load_training_examples(job.train_file, data_format)
    return train, load_training_examples(job.validation_file, data_format) if job.validation_file else []


__all__ = ["load_job_examples", "load_training_examples"]
