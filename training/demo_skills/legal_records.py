"""Legal cases written as records, under codes other than the demo's: the legal-reasoner's wider world.

The Northwind generator (legal.py) varies names and distractors over one Code's fact patterns, so a
skill trained on it alone learns that Code's articles, not how to apply an article to facts. These
records were written by hand under twenty fictional codes (transport, insurance, ticketing, permits,
...), each a client's story, the code's articles (the deciding ones among distractors), the gold
articles, the verdict and a reference IRAC analysis in the trained format. One record format serves
three roles: training cases (cases/train_*.jsonl), the tuning set the card reports beside the Northwind
held-out items (cases/tuning.jsonl), and the unseen sets of bench/unseen/skills, which are only ever
measured (unseen.py converts them with `case_item`).

Holds the record reader, the record as an eval item, and the record as a training example. In both,
a record's articles are shown best first for its facts, the order retrieval gives the skill in the
hybrid flow (the embedder ranks the deciding article first for 80-92% of the written records).
"""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError

CASES_DIR = Path(__file__).with_name("cases")
TRAIN_FILES = ("train_a.jsonl", "train_b.jsonl")
TUNING_FILE = "tuning.jsonl"
_KEYS = ("code", "party", "facts", "articles", "gold", "conclusion")
_VERDICTS = ("complied", "did not comply")


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of one JSONL file, each checked for the fields the examples are built from."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [key for key in _KEYS if key not in row]
        if missing or row["conclusion"] not in _VERDICTS:
            raise DatasetError(f"{path}:{number}: a legal case record needs {', '.join(_KEYS)} and a conclusion of "
                               f"{' or '.join(map(repr, _VERDICTS))} (missing: {', '.join(missing) or 'none'})")
        numbers = {str(a["number"]) for a in row["articles"]}
        if not set(row["gold"]) <= numbers:
            raise DatasetError(f"{path}:{number}: gold articles {row['gold']} are not all among the record's articles")
        records.append(row)
    return records


def record_hits(row: dict[str, Any], numbers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The record's articles as retrieved hits (Hit.to_dict() shape), optionally renumbered {old: new}."""
    hits = []
    for article in row["articles"]:
        number = (numbers or {}).get(str(article["number"]), str(article["number"]))
        title = article.get("title", "")
        hits.append({"text": article["text"], "score": 1.0, "source": row["code"],
                     "metadata": {"kind": "article", "article": number, "title": title, "source": row["code"]}})
    return hits


def by_relevance(facts: str, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hits best first for these facts (embedder cosine), as the hybrid flow shows retrieved articles:
    a skill trained on shuffled articles learns to ignore the order its prompt will carry."""
    vectors = _ranking_embedder().embed([facts] + [f"{h['metadata'].get('title', '')}. {h['text']}" for h in hits])
    scores = vectors[1:] @ vectors[0]
    # Only the order is kept (not the scores): a float's last digits differ between CPUs, the order does not.
    return [hits[i] for i in sorted(range(len(hits)), key=lambda i: -float(scores[i]))]


@functools.cache
def _ranking_embedder() -> Any:
    """The embedded all-MiniLM-L6-v2 on torch whatever the home configures: the datasets stay reproducible."""
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.settings import EMBEDDED, load_settings

    return get_embedder(load_settings(embedding_model=EMBEDDED, embedding_backend="torch", device="cpu"))


def case_item(row: dict[str, Any]) -> dict[str, Any]:
    """The record as a held-out item of the eval engine: the trained IRAC prompt over the record's own
    articles (standing in for retrieval, so ranked as retrieval ranks them), with gold articles, reference and verdict for the scorer."""
    from skillstack.agents.lawyer.flow import articles_for_prompt
    from skillstack.agents.lawyer.prompts import legal_reasoner_messages

    hits = by_relevance(row["facts"], record_hits(row))
    reference = row.get("analysis") or f"Conclusion: {row['reference']}"
    return {"messages": legal_reasoner_messages(row["facts"], articles_for_prompt(hits), system=None), "id": row.get("id"),
            "facts": row["facts"], "gold_articles": list(row["gold"]), "hits": hits, "reference": reference,
            "conclusion": row["conclusion"]}


def _renumber_analysis(analysis: str, numbers: dict[str, str]) -> str:
    """The analysis citing the renumbered articles: "Article N (" and "[Article N]" follow the new numbers."""
    def swap(match: re.Match[str]) -> str:
        return match.group(1) + numbers.get(match.group(2), match.group(2))

    return re.sub(r"(\[?Article )([0-9]+[a-z]?)\b", swap, analysis)


def record_example(row: dict[str, Any], rng: random.Random, *, renumber: bool) -> dict[str, Any]:
    """One chat training example from a record: its articles best first (and, with `renumber`, given random
    numbers 1-99, so the skill cites what its prompt prints), the record's analysis as the answer."""
    from skillstack.agents.lawyer.flow import articles_for_prompt
    from skillstack.agents.lawyer.prompts import legal_reasoner_messages

    if "analysis" not in row:
        raise DatasetError(f"legal case record {row.get('id')!r} has no 'analysis' to train on")
    original = [str(a["number"]) for a in row["articles"]]
    numbers = dict(zip(original, map(str, rng.sample(range(1, 100), len(original))))) if renumber else {}
    hits = by_relevance(row["facts"], record_hits(row, numbers))
    messages = legal_reasoner_messages(row["facts"], articles_for_prompt(hits))
    return {"messages": messages + [{"role": "assistant", "content": _renumber_analysis(row["analysis"], numbers)}]}


def training_records() -> list[dict[str, Any]]:
    """Every training record (cases/train_*.jsonl), in file order."""
    return [row for name in TRAIN_FILES for row in read_records(CASES_DIR / name)]


def tuning_items() -> list[dict[str, Any]]:
    """The tuning records (cases/tuning.jsonl) as held-out items: fitted to, unlike bench/unseen."""
    return [case_item(row) for row in read_records(CASES_DIR / TUNING_FILE)]


__all__ = ["CASES_DIR", "by_relevance", "case_item", "read_records", "record_example", "record_hits", "training_records", "tuning_items"]
