"""The BM25 side of the store: a bm25s index over every chunk, saved beside Chroma and kept in step with it.

The index is derived data: it records a digest of the chunk ids it was built from, so a reader can tell
when Chroma moved on (an ingest killed between the two writes) and rebuild it from Chroma. Saved to a
temporary folder then swapped in, so a reader never sees half an index; with a Chroma server it is
stored in that server instead (lexical_server.py), so every agent server on it searches the same index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skillstack.io import atomic_folder
from skillstack.settings import Settings
from .filters import matches

FORMAT_VERSION = 1
_META = "skillstack-lexical.json"


def ids_digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """English stop words out, Snowball stems in ("notification" and "notify" meet)."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=Stemmer.Stemmer("english"),
                          return_ids=False, show_progress=False)


class LexicalIndex:
    """BM25 over chunk texts; search returns (chunk id, score) pairs, best first."""

    def __init__(self, bm25: Any, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        self._bm25 = bm25
        self.ids = ids
        self.metadatas = metadatas
        self.digest = ids_digest(ids)

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[Mapping[str, Any]]) -> LexicalIndex:
        import bm25s

        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            # An empty token list breaks bm25s' vocabulary; such a chunk (all stop words) matches nothing anyway.
            bm25.index([tokens or ["\x00"] for tokens in tokenize(texts)], show_progress=False)
        return cls(bm25, list(ids), [dict(m or {}) for m in metadatas])

    def search(self, query: str, k: int, *, where: Mapping[str, Any] | None = None) -> list[tuple[str, float]]:
        if self._bm25 is None or k <= 0:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self._bm25.vocab_dict]
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        if where:
            mask = np.fromiter((matches(m, where) for m in self.metadatas), dtype=bool, count=len(self.ids))
            scores = np.where(mask, scores, -np.inf)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Write to a sibling temp folder, then swap it in (readers see the old or the new, never a mix)."""
        with atomic_folder(folder) as tmp:
            if self._bm25 is not None:
                self._bm25.save(str(tmp), show_progress=False)
            meta = {"version": FORMAT_VERSION, "digest": self.digest, "ids": self.ids, "metadatas": self.metadatas}
            (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when missing, unreadable or of another format version."""
        import bm25s

        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
            if meta.get("version") != FORMAT_VERSION:
                return None
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
        except (OSError, ValueError, KeyError):
            return None
        return cls(bm25, meta["ids"], meta["metadatas"])


def lexical_dir(settings: Settings) -> Path:
    return settings.store_dir / "lexical"


def load_saved(settings: Settings, collection: Any) -> LexicalIndex | None:
    """The saved index when it matches Chroma's chunk ids now, else None: the folder beside embedded Chroma, or
    with a Chroma server the version stored in that server (lexical_server.py), so every client shares one."""
    digest = ids_digest(collection.get(include=[])["ids"])
    if settings.chroma_host:
        from .lexical_server import load
        from .store import open_client

        saved = load(settings, open_client(settings), digest)
    else:
        saved = LexicalIndex.load(lexical_dir(settings))
    return saved if saved is not None and saved.digest == digest else None


def save_index(settings: Settings, index: LexicalIndex) -> None:
    """Where load_saved looks: the store's folder, or the Chroma server beside the collection."""
    if settings.chroma_host:
        from .lexical_server import publish
        from .store import open_client

        publish(settings, open_client(settings), index)
    else:
        index.save(lexical_dir(settings))


def current_index(settings: Settings, collection: Any, *, rebuild: bool = False, save: bool = False) -> LexicalIndex:
    """The BM25 index matching Chroma's chunks: the saved one when its id digest agrees, else rebuilt from Chroma
    (and saved when `save`: only writers save)."""
    from .store import read_all

    if not rebuild:
        saved = load_saved(settings, collection)
        if saved is not None:
            return saved
    everything = read_all(collection)
    index = LexicalIndex.build(everything["ids"], everything["documents"], everything["metadatas"])
    if save:
        save_index(settings, index)
    return index
