"""Search over the store: dense (Chroma), lexical (BM25) or both fused by RRF; also a LangChain retriever.

Opening a Retriever reads the store once (Chroma collection + BM25 index, rebuilt in memory if it lags
Chroma); the embedder is built on first dense query. Search returns distinct citable units (hits.py), a
recital's place taken by the article it explains (bridges.py), optionally reranked by the base model's query
likelihood (rerank.py). Writing lives in ingest.py.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from skillstack.errors import InputError
from skillstack.settings import Settings
from . import store
from .bridges import RecitalBridges
from .embeddings import Embedder, embedder_identity, get_embedder
from .fusion import reciprocal_rank_fusion
from .hits import Hit, distinct_units
from .lexical import LexicalIndex, current_index

MODES = ("hybrid", "dense", "lexical")
# RRF's classic k=60 flattens two 30-deep lists into "found by both"; k=10 keeps a first-rank hit of
# either side near the top. On the GDPR question set (tests/data) k=10 beats 60 and 20 (bench/retrieval.py).
HYBRID_RRF_K = 10
MAX_K = 1000


def validate_query(query: str, k: int, mode: str = "hybrid", rerank: int = 0) -> None:
    if not isinstance(query, str) or not query.strip():
        raise InputError("the query is empty; pass some text to search for")
    if k < 1 or k > MAX_K:
        raise InputError(f"-k must be between 1 and {MAX_K}, got {k}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if rerank < 0 or rerank > MAX_K:
        raise InputError(f"--rerank must be between 0 (off) and {MAX_K}, got {rerank}")


class Retriever:
    """Hybrid retrieval with citations over one store; raises StoreError when the store does not exist."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._collection = store.open_collection(settings, create=False, embedder=embedder_identity(settings))
        self._embedder = embedder
        self._lexical: LexicalIndex | None = None
        self._bridges = RecitalBridges(self._collection) if settings.recital_bridges else None
        self._last_vector: tuple[str, Any] | None = None  # (query, vector): search and bridging embed a query once

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            # Rebuilt in memory when it lags Chroma (an ingest killed between its two writes); readers never save.
            self._lexical = current_index(self.settings, self._collection)
        return self._lexical

    def count(self) -> int:
        return self._collection.count()

    def _dense(self, query: str, depth: int, where: Mapping[str, Any] | None) -> list[tuple[str, float]]:
        total = self.count()
        if total == 0:
            return []
        vector = self._query_vector(query)
        result = self._collection.query(query_embeddings=[vector.tolist()], n_results=min(depth, total),
                                        where=dict(where) if where else None, include=["distances"])
        # Cosine space: distance = 1 - similarity.
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0])]

    def _query_vector(self, query: str) -> Any:
        if self._last_vector is None or self._last_vector[0] != query:
            self._last_vector = (query, self.embedder.embed([query])[0])
        return self._last_vector[1]

    def search(self, query: str, k: int = 5, *, where: dict | None = None, mode: str = "hybrid",
               rerank: int | None = None) -> list[Hit]:
        """The k best distinct units (article, recital, section) for the query, each by its best chunk, with its
        citation in metadata. rerank: rerank the top N units by query likelihood (None: settings.rerank_top_n)."""
        top_n = self.settings.rerank_top_n if rerank is None else rerank
        validate_query(query, k, mode, top_n)
        wanted = max(k, top_n)
        bridges = self._bridges if mode != "lexical" else None  # lexical mode never loads the embedder
        units = bridges.scan_depth(wanted) if bridges else wanted
        depth = max(4 * units, 30)  # several chunks per unit, and fusion needs more candidates than it returns
        while True:
            ranked = self._ranked(query, depth, where, mode)
            hits = distinct_units(self._hits(ranked), units)
            if len(hits) == units or len(ranked) < depth:  # enough units, or nothing more to find
                break
            depth *= 4
        if bridges:
            hits = bridges.apply(hits, self._query_vector(query), where)[:wanted]
        if top_n > 1:
            from .rerank import rerank as rerank_hits

            hits = rerank_hits(self.settings, query, hits[:top_n]) + hits[top_n:]
        return hits[:k]

    def _ranked(self, query: str, depth: int, where: Mapping[str, Any] | None, mode: str) -> list[tuple[str, float]]:
        if mode == "dense":
            return self._dense(query, depth, where)
        if mode == "lexical":
            return self.lexical.search(query, depth, where=where)
        dense = self._dense(query, depth, where)
        lexical = self.lexical.search(query, depth, where=where)
        return reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical]], k=HYBRID_RRF_K)[:depth]

    def _hits(self, ranked: list[tuple[str, float]]) -> list[Hit]:
        if not ranked:
            return []
        found = self._collection.get(ids=[i for i, _ in ranked], include=["documents", "metadatas"])
        by_id = {i: (doc, meta) for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"])}
        hits = []
        for chunk_id, score in ranked:
            if chunk_id not in by_id:  # deleted since the index was read
                continue
            text, metadata = by_id[chunk_id]
            metadata = {**(metadata or {}), "chunk_id": chunk_id}
            hits.append(Hit(text=text or "", score=float(score), source=str(metadata.get("source", "")),
                            metadata=metadata))
        return hits

    def as_langchain(self, k: int = 5) -> Any:
        """This retriever as a langchain_core BaseRetriever returning Documents (metadata = hit metadata + score)."""
        return _langchain_class()(retriever=self, k=k)


@functools.cache
def _langchain_class() -> type:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict

    class SkillstackRetriever(BaseRetriever):
        """Hybrid (dense + BM25, RRF) retrieval over a skillstack store."""

        model_config = ConfigDict(arbitrary_types_allowed=True)
        retriever: Any
        k: int = 5
        mode: str = "hybrid"

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                    k: int | None = None, where: dict | None = None) -> list[Document]:
            """invoke(query, k=..., where=...) overrides the constructor's k and adds a metadata filter."""
            return [Document(page_content=hit.text, metadata={**hit.metadata, "source": hit.source, "score": hit.score})
                    for hit in self.retriever.search(query, self.k if k is None else k, where=where, mode=self.mode)]

    return SkillstackRetriever
