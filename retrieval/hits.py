"""A search hit: the chunk text, its score, where it came from and how to cite it (no search logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(kw_only=True)
class Hit:
    text: str = field(metadata={"help": "The chunk's text as stored (its heading line included)."})
    score: float = field(metadata={"help": "Higher is better: RRF score (hybrid), cosine similarity (dense) or BM25 (lexical)."})
    source: str = field(metadata={"help": "The document the chunk came from (absolute path when ingested from a file)."})
    metadata: dict[str, Any] = field(default_factory=dict, metadata={"help": "kind, article, title, chunk_id, ..."})

    @property
    def article(self) -> str | None:
        return self.metadata.get("article") or None

    @property
    def citation(self) -> dict[str, Any]:
        return {"source": self.source, "article": self.article, "title": self.metadata.get("title")}

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "score": self.score, "source": self.source, "metadata": dict(self.metadata)}
