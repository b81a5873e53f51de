"""A search hit: the chunk text, its score, where it came from and how to cite it; the unit it belongs to.

A citable unit is what a chunk's heading names (Article 33, Recital 85, Section 4, a titled section):
search returns distinct units, each by its best chunk, so one long article cannot fill the top k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(kw_only=True)
class Hit:
    text: str = field(metadata={"help": "The chunk's text as stored (its heading line included)."})
    score: float = field(metadata={"help": "Higher is better: RRF score (hybrid), cosine similarity (dense), BM25 (lexical), "
                                           "or the question's mean log-likelihood given the chunk (reranked)."})
    source: str = field(metadata={"help": "The document the chunk came from (absolute path when ingested from a file)."})
    metadata: dict[str, Any] = field(default_factory=dict, metadata={"help": "kind, article, title, chunk_id, ..."})

    @property
    def article(self) -> str | None:
        """The number the unit is cited by: an article's, or a numbered section's ("3.1" of Section 3.1)."""
        return self.metadata.get("article") or self.metadata.get("section") or None

    @property
    def cite_as(self) -> str:
        """How a citation block names the unit: "Article 4", "Section 3.1", "Clause 7"; "" when it has no number."""
        if not self.article:
            return ""
        word = "Article" if self.metadata.get("article") else self.metadata.get("style") or "Section"
        return f"{word} {self.article}"

    @property
    def unit(self) -> tuple[str, ...]:
        return unit_key(self.metadata)

    @property
    def citation(self) -> dict[str, Any]:
        return {"source": self.source, "article": self.article, "cite": self.cite_as, "title": self.metadata.get("title")}

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "score": self.score, "source": self.source, "metadata": dict(self.metadata)}


def unit_key(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The citable unit a chunk belongs to: every part of one article (recital, section) shares it;
    a chunk outside any unit (kind "text") is a unit of its own."""
    kind = str(metadata.get("kind", "text"))
    if kind == "text":
        return ("chunk", str(metadata.get("chunk_id", "")))
    number = metadata.get(kind) or ""  # the article / recital / section number, when the heading has one
    return (str(metadata.get("source", "")), kind, str(number), "" if number else str(metadata.get("title", "")),
            str(metadata.get("context", "")))


def distinct_units(hits: list[Hit], k: int) -> list[Hit]:
    """The first k hits of distinct units, in rank order (the best chunk stands for its unit)."""
    seen: set[tuple[str, ...]] = set()
    out: list[Hit] = []
    for hit in hits:
        if hit.unit not in seen:
            seen.add(hit.unit)
            out.append(hit)
            if len(out) == k:
                break
    return out
