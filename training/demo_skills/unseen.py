"""The unseen sets (bench/unseen/skills) as eval items for the demo skills' cards, measured and never trained on.

Holds the path of the unseen set of each demo skill that has one and its conversion into held-out
items `skillstack eval` reads (a user turn; `expected` for agent-status-json; no `first_name` for
brand-voice, whose scorer then accepts "Hi there," or a name the message itself gives; the legal cases in
the trained IRAC prompt over their own articles, with gold articles, reference and `conclusion`). The items are
written to a scratch file at measurement time; nothing of them is stored in a skill folder but the card.
Not here: the cards (build.py's evaluate_unseen).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .legal_records import case_item

UNSEEN_DIR = Path(__file__).resolve().parents[2] / "bench" / "unseen" / "skills"
UNSEEN_CARD_FILE = "eval_card.unseen.json"
UNSEEN_REPORT_FILE = "EVAL-unseen.md"


def _status(row: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": row["report"]}], "expected": row["expected"], "id": row["id"]}


def _voice(row: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": row["prompt"]}], "id": row["id"], "register": row.get("register")}


# agent-status-json's card reads the set written blind at stop 15: status_reports.jsonl's outputs were read item by
# item while its generator was widened, so it is kept for the record (bench/RESULTS.md), not for the card.
SETS = {"agent-status-json": ("status_reports_b.jsonl", _status), "brand-voice": ("brand_voice_messages.jsonl", _voice),
        "legal-reasoner": ("legal_cases.jsonl", case_item)}


def unseen_items(skill_name: str, root: Path = UNSEEN_DIR) -> list[dict[str, Any]] | None:
    """The skill's unseen set as eval items, or None when it has none here (a checkout without bench/)."""
    if skill_name not in SETS or not (root / SETS[skill_name][0]).is_file():
        return None
    name, convert = SETS[skill_name]
    lines = (root / name).read_text(encoding="utf-8").splitlines()
    return [convert(json.loads(line)) for line in lines if line.strip()]


def write_unseen_items(skill_name: str, dest: Path, root: Path = UNSEEN_DIR) -> Path | None:
    """unseen_items written as JSONL at dest (the scratch file `skillstack eval` reads), or None."""
    from skillstack.training.data.jsonl import write_jsonl

    items = unseen_items(skill_name, root)
    if items is None:
        return None
    write_jsonl(dest, items)
    return dest


__all__ = ["UNSEEN_CARD_FILE", "UNSEEN_DIR", "UNSEEN_REPORT_FILE", "unseen_items", "write_unseen_items"]
