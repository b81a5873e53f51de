"""The hybrid flow's steps around the reasoner: the issues to research, the hits of all of them fused,
and those hits grouped into whole articles for the IRAC prompt.

Pure functions over plain state data; graphs/graph.py runs them as the nodes issues -> retrieve -> reason.
Not here: the retriever, the reasoner, the citation gate (gate.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from skillstack.retrieval.fusion import reciprocal_rank_fusion

from .citations import flatten, normalise_article

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def identify_issues(facts: str, *, max_issues: int = 4, min_words: int = 4) -> list[str]:
    """The questions to research: the whole case first, then each substantial sentence of it.

    Deterministic on purpose: a 135M-parameter base model lists issues worse than the facts' own
    sentences do as retrieval queries, and this step then costs nothing.
    """
    whole = flatten(facts)
    issues = [whole] if whole else []
    for sentence in _SENTENCE.split(facts):
        sentence = flatten(sentence)
        if len(sentence.split()) >= min_words and sentence not in issues:
            issues.append(sentence)
        if len(issues) > max_issues:
            break
    return issues


def merge_hits(result_lists: Sequence[Sequence[dict[str, Any]]], *, limit: int) -> list[dict[str, Any]]:
    """Fuse the hits of several queries: a chunk found by more queries and at better ranks comes first (RRF)."""
    records: dict[str, dict[str, Any]] = {}
    rankings = []
    for results in result_lists:
        ranking = []
        for record in results:
            meta = record.get("metadata") or {}
            key = str(meta.get("chunk_id") or (record.get("source"), meta.get("article"), record.get("text")))
            records.setdefault(key, record)
            ranking.append(key)
        rankings.append(ranking)
    return [records[key] for key, _ in reciprocal_rank_fusion(rankings)[:limit]]


def articles_for_prompt(hits: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group retrieved chunks by (source, article) into whole articles for the IRAC prompt, best first."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for hit in hits:
        meta = hit.get("metadata") or {}
        article = meta.get("article")
        key = (str(hit.get("source", "")), normalise_article(article) if article not in (None, "") else f"chunk:{len(grouped)}")
        entry = grouped.setdefault(key, {"article": article, "title": meta.get("title", ""), "text": ""})
        entry["text"] = (entry["text"] + "\n" + str(hit.get("text", ""))).strip()
    return list(grouped.values())
