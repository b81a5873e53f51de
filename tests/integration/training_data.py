"""Small training datasets built from the real customer-support corpus, shared by the training tests.

The task is measurable: the assistant answers with the message's category in a fixed form,
"category: <name>", which a string_check grader can score exactly.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

CATEGORIES = ("order", "refund", "account", "delivery")
SYSTEM_PROMPT = "Classify the customer message as order, refund, account or delivery. Answer 'category: <name>'."


def support_rows(csv_path: Path, *, per_category: int, seed: int = 0) -> list[dict[str, str]]:
    """`per_category` shuffled rows of each category, interleaved (deterministic in seed)."""
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rng = random.Random(seed)
    picked = []
    for name in CATEGORIES:
        matching = [r for r in rows if r["category"].lower() == name and len(r["instruction"]) < 90]
        rng.shuffle(matching)
        picked.append(matching[:per_category])
    return [group[i] for i in range(per_category) for group in picked]


def chat_example(row: dict[str, str], *, system: bool = True) -> dict[str, Any]:
    """One chat example; system=False leaves the system prompt to the skill (train_sft adds it)."""
    head = [{"role": "system", "content": SYSTEM_PROMPT}] if system else []
    return {"messages": [*head, {"role": "user", "content": row["instruction"]},
                         {"role": "assistant", "content": f"category: {row['category'].lower()}"}]}


def write_jsonl(path: Path, examples: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
    return path
