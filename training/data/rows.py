"""A dataset as plain text rows (line, prompt, user turns, answer) for the tools that read text: audit and advise.

Any of the formats (chat, preference, reinforcement); validation rules stay in validate.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .formats import REINFORCEMENT, content_text, prompt_and_answer
from .validate import usable_report

# Reinforcement rows carry their reference under a key of the grader's choosing; these are the usual ones.
REFERENCE_KEYS = ("reference", "reference_answer", "answer", "completion")


@dataclass(frozen=True)
class Row:
    """One example as text. `context`: every prompt message (system, user, earlier turns); `user`: the
    user turns only; `answer`: the reference answer (chat: last assistant, DPO: preferred; '' when none)."""

    line: int
    context: str
    user: str
    answer: str


def _reference(example: dict[str, Any]) -> str:
    return next((example[key] for key in REFERENCE_KEYS if isinstance(example.get(key), str)), "")


def example_row(example: dict[str, Any], line: int, fmt: str) -> Row:
    """The text row of one valid example."""
    prompt, answer = prompt_and_answer(example, fmt)
    texts = [(m.get("role"), content_text(m.get("content"))) for m in prompt]
    if answer is None:
        answer = _reference(example) if fmt == REINFORCEMENT else ""
    return Row(line=line, context="\n".join(text for _, text in texts if text),
               user="\n".join(text for role, text in texts if role == "user" and text), answer=answer)


def read_rows(path: Path | str) -> tuple[str, list[Row]]:
    """(format, rows) of a dataset; InputError naming the file and line when a line is not a usable example."""
    report = usable_report(path)
    return report.format, [example_row(item, line, report.format)
                           for item, line in zip(report.items, report.item_lines)]

