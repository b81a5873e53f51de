"""Recitals as bridges: a hit on a recital surfaces the article it explains.

A regulation's recitals say in plain words what its articles say in legal terms, so a question asked in a
user's words often lands on a recital, which is not the citable rule. Each recital is linked to the article of
the same document whose text is closest to it (the mean of each unit's chunk vectors, cosine), computed from
the stored vectors when first needed, never by hand; in search results the recital's place goes to that
article, by the article's chunk closest to the query. Measured on the tuning sets (bench/RESULTS.md): lay
questions' recall@5 0.42 -> 0.62, vocabulary questions 0.935 -> 1.00. Documents without recitals are untouched.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from .hits import Hit

_SCAN = 2  # search this many times k units before bridging, so bridged duplicates do not shrink the top k


class RecitalBridges:
    """Recital -> article links per source, built lazily from one collection's stored vectors."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self._links: dict[str, tuple[int, dict[str, str]]] = {}  # source -> (chunk count when built, links)

    def scan_depth(self, k: int) -> int:
        """How many units to search for k results once recitals are bridged."""
        return _SCAN * k

    def links(self, source: str) -> dict[str, str]:
        """{recital number: article number} for one source (empty when it has no recitals or no articles)."""
        found = self._collection.get(where={"source": source}, include=["embeddings", "metadatas"])
        count = len(found["ids"])
        cached = self._links.get(source)
        if cached is not None and cached[0] == count:  # rebuilt when the document was re-ingested
            return cached[1]
        vectors: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
        for vector, meta in zip(found["embeddings"], found["metadatas"]):
            meta = meta or {}
            if meta.get("kind") in ("recital", "article") and meta.get(meta["kind"]):
                vectors[(meta["kind"], str(meta[meta["kind"]]))].append(np.asarray(vector, dtype=np.float32))
        articles = [number for kind, number in vectors if kind == "article"]
        links: dict[str, str] = {}
        if articles:
            matrix = _unit_means([vectors[("article", a)] for a in articles])
            for (kind, number), parts in vectors.items():
                if kind == "recital":
                    links[number] = articles[int(np.argmax(matrix @ _unit_means([parts])[0]))]
        self._links[source] = (count, links)
        return links

    def apply(self, hits: list[Hit], query_vector: np.ndarray, where: dict[str, Any] | None = None) -> list[Hit]:
        """The hits with each recital replaced by its linked article (its chunk closest to the query, and within
        the search's `where` filter, else the recital stays), distinct units in rank order; the hit says which
        recital led to it (metadata `via_recital`)."""
        out: list[Hit] = []
        seen: set[tuple[str, ...]] = set()
        for hit in hits:
            if hit.metadata.get("kind") == "recital":
                article = self.links(hit.source).get(str(hit.metadata.get("recital", "")))
                hit = self._article_hit(hit, article, query_vector, where) if article else hit
            if hit.unit not in seen:
                seen.add(hit.unit)
                out.append(hit)
        return out

    def _article_hit(self, recital: Hit, article: str, query_vector: np.ndarray, where: dict[str, Any] | None) -> Hit:
        found = self._collection.get(where={"$and": [{"source": recital.source}, {"article": article}, *([where] if where else [])]},
                                     include=["embeddings", "documents", "metadatas"])
        if not found["ids"]:
            return recital
        best = int(np.argmax(np.asarray(found["embeddings"], dtype=np.float32) @ query_vector))
        metadata = {**(found["metadatas"][best] or {}), "chunk_id": found["ids"][best],
                    "via_recital": str(recital.metadata.get("recital"))}
        return Hit(text=found["documents"][best] or "", score=recital.score, source=recital.source, metadata=metadata)


def _unit_means(groups: list[list[np.ndarray]]) -> np.ndarray:
    means = np.stack([np.mean(group, axis=0) for group in groups])
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
