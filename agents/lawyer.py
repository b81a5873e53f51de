"""The hybrid lawyer flow's steps: find the issues in the facts, retrieve the articles, check the citations.

The citation gate is a pure function: every article an analysis cites must be among the retrieved
chunks, and every quoted span must appear verbatim in them (or in the facts themselves). The graph
(graphs/graph.py) wires these steps together with the legal-reasoner skill; the prompt lives in prompts.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# "Article 33", "[Article 33(1)(a)]", "Articles 5 and 6", "Art. 17", "Artículo 4", "§ 12"
_CITE = re.compile(
    r"\b(?:Articles?|Art\.|Artículos?)\s*(?P<first>\d+[a-z]?)(?:\(\w+\))*"
    r"(?P<more>(?:\s*(?:,|and|or|&|y)\s*\d+[a-z]?(?:\(\w+\))*)*)"
    r"|§\s*(?P<section>\d+[a-z]?)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+[a-z]?", re.IGNORECASE)
_QUOTE = re.compile(r"\"([^\"\n]{3,}?)\"|“([^”\n]{3,}?)”|«([^»\n]{3,}?)»")
_SPACE = re.compile(r"\s+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "\u00a0": " "})
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def normalise_article(number: Any) -> str:
    """'033' -> '33', '17A' -> '17a'; anything else is kept as written."""
    text = str(number).strip().lower()
    return text.lstrip("0") or text


def cited_articles(text: str) -> list[str]:
    """Article numbers an analysis cites, in first-seen order, sub-paragraphs dropped ('6(1)(a)' -> '6')."""
    found: dict[str, None] = {}
    for match in _CITE.finditer(text):
        if match.group("section"):
            found.setdefault(normalise_article(match.group("section")), None)
            continue
        found.setdefault(normalise_article(match.group("first")), None)
        for extra in _NUMBER.findall(re.sub(r"\(\w+\)", "", match.group("more") or "")):
            found.setdefault(normalise_article(extra), None)
    return list(found)


def _flatten(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_TRANSLATE)).strip()


def quoted_spans(text: str) -> list[str]:
    """Spans the analysis puts in double quotes (straight, curly or guillemets), trailing punctuation dropped."""
    spans = []
    for match in _QUOTE.finditer(text):
        span = _flatten(next(g for g in match.groups() if g is not None)).rstrip(".,;:")
        if span:
            spans.append(span)
    return spans


@dataclass(kw_only=True)
class GateResult:
    """The citation gate's verdict on one analysis."""

    ok: bool
    citations: list[dict[str, Any]] = field(default_factory=list)  # {"article", "verified", "source"}
    unknown_articles: list[str] = field(default_factory=list)
    bad_quotes: list[str] = field(default_factory=list)
    allowed_articles: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str:
        """One line saying why the gate failed (empty when it passed)."""
        if self.ok:
            return ""
        parts = []
        if self.unknown_articles:
            parts.append("cites articles that were not retrieved: " + ", ".join(self.unknown_articles))
        if self.bad_quotes:
            parts.append("quotes text not found verbatim: " + "; ".join(self.bad_quotes))
        return "; ".join(parts) or "cites no retrieved article"


def article_sources(hits: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Retrieved article number -> the source it came from (the best-ranked hit wins)."""
    sources: dict[str, str] = {}
    for hit in hits:
        article = (hit.get("metadata") or {}).get("article")
        if article not in (None, ""):
            sources.setdefault(normalise_article(article), str(hit.get("source", "")))
    return sources


def check_citations(text: str, hits: Sequence[dict[str, Any]], *, facts: str = "") -> GateResult:
    """The citation gate: pass only if the analysis cites at least one article, every cited article was
    retrieved, and every quoted span appears verbatim in a retrieved chunk (or in the facts).

    Each citation comes back as {"article", "verified", "source"}; source is None for an article that
    was never retrieved.
    """
    allowed = article_sources(hits)
    cited = cited_articles(text)
    citations = [{"article": a, "verified": a in allowed, "source": allowed.get(a)} for a in cited]
    unknown = [a for a in cited if a not in allowed]
    haystacks = [_flatten(str(hit.get("text", ""))) for hit in hits] + ([_flatten(facts)] if facts else [])
    bad_quotes = [q for q in quoted_spans(text) if not any(q in h for h in haystacks)]
    ok = bool(cited) and not unknown and not bad_quotes
    return GateResult(ok=ok, citations=citations, unknown_articles=unknown, bad_quotes=bad_quotes,
                      allowed_articles=list(allowed))


def identify_issues(facts: str, *, max_issues: int = 4, min_words: int = 4) -> list[str]:
    """The questions to research: the whole case first, then each substantial sentence of it.

    Deterministic on purpose: a 135M-parameter base model lists issues worse than the facts' own
    sentences do as retrieval queries, and this step then costs nothing.
    """
    whole = _flatten(facts)
    issues = [whole] if whole else []
    for sentence in _SENTENCE.split(facts):
        sentence = _flatten(sentence)
        if len(sentence.split()) >= min_words and sentence not in issues:
            issues.append(sentence)
        if len(issues) > max_issues:
            break
    return issues


def hit_record(hit: Any) -> dict[str, Any]:
    """A retrieval Hit as plain state data: Hit.to_dict() plus its citation."""
    record = hit.to_dict()
    record["citation"] = hit.citation
    return record


def merge_hits(result_lists: Sequence[Sequence[dict[str, Any]]], *, limit: int) -> list[dict[str, Any]]:
    """Fuse the hits of several queries: a chunk found by more queries and at better ranks comes first (RRF)."""
    scores: dict[str, float] = {}
    records: dict[str, dict[str, Any]] = {}
    for results in result_lists:
        for rank, record in enumerate(results):
            meta = record.get("metadata") or {}
            key = str(meta.get("chunk_id") or (record.get("source"), meta.get("article"), record.get("text")))
            scores[key] = scores.get(key, 0.0) + 1.0 / (60 + rank + 1)
            records.setdefault(key, record)
    ranked = sorted(scores, key=lambda key: scores[key], reverse=True)[:limit]
    return [records[key] for key in ranked]


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
