"""Server mode's BM25 half: the bm25s index stored in the Chroma server beside its collection, for every client.

Embedded mode keeps the index as a folder under store_dir (lexical.py); with a Chroma server, agent servers on
other machines share nothing but that server, so the index lives there too, in the companion collection
`<collection>.bm25`. Each record is one part of one saved bm25s file (base64 text), tagged with the digest of
the chunk ids the index was built from: that digest is the index's version. A reader asks for the version
matching the collection's ids now and falls back to rebuilding from Chroma when it is missing or incomplete
(an ingest killed before publishing, two writers racing), so a stale index is never used.

Why not Chroma's own sparse or full-text ranking: `Collection.search` (sparse vectors, BM25 embedding
functions) is not implemented by the single-node server (`chroma run` answers "Search operation is not
implemented for local executor", chromadb 1.5.9), and `where_document` filters rather than ranks.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillstack.settings import Settings

if TYPE_CHECKING:
    from .lexical import LexicalIndex

# Base64 characters per record: well within what the server accepts in one request (8 MB documents work).
PART_CHARS = 4 * 1024 * 1024
# Chroma needs a vector per record; the parts are fetched by metadata only, never searched.
_NO_VECTOR = [0.0]


def side_collection(settings: Settings, client: Any) -> Any:
    """The companion collection holding the index parts (created on first use)."""
    return client.get_or_create_collection(f"{settings.collection}.bm25", embedding_function=None,
                                           metadata={"skillstack": "bm25s index parts of " + settings.collection})


def publish(settings: Settings, client: Any, index: LexicalIndex) -> None:
    """Store `index` under its digest, then drop every other version (readers of a dropped one rebuild)."""
    side = side_collection(settings, client)
    with tempfile.TemporaryDirectory(prefix="skillstack-bm25-") as tmp:
        folder = Path(tmp) / "index"
        index.save(folder)
        ids, documents, metadatas = [], [], []
        for path in sorted(folder.iterdir()):
            text = base64.b64encode(path.read_bytes()).decode("ascii")
            parts = [text[start:start + PART_CHARS] for start in range(0, len(text), PART_CHARS)] or [""]
            for number, part in enumerate(parts):
                ids.append(f"{index.digest}/{path.name}/{number}")
                documents.append(part)
                metadatas.append({"digest": index.digest, "file": path.name, "part": number, "parts": len(parts)})
    for start in range(0, len(ids), 8):  # a few parts per request keeps each request a few tens of MB at most
        end = start + 8
        side.upsert(ids=ids[start:end], documents=documents[start:end], metadatas=metadatas[start:end],
                    embeddings=[_NO_VECTOR] * len(ids[start:end]))
    side.delete(where={"digest": {"$ne": index.digest}})


def load(settings: Settings, client: Any, digest: str) -> LexicalIndex | None:
    """The stored index of version `digest`, or None when it is absent or any part is missing."""
    from .lexical import LexicalIndex

    found = side_collection(settings, client).get(where={"digest": digest}, include=["documents", "metadatas"])
    files: dict[str, dict[int, str]] = {}
    expected: dict[str, int] = {}
    for document, metadata in zip(found["documents"] or [], found["metadatas"] or []):
        name = str(metadata["file"])
        files.setdefault(name, {})[int(metadata["part"])] = document or ""
        expected[name] = int(metadata["parts"])
    if not files or any(len(files[name]) != expected[name] for name in files):
        return None
    with tempfile.TemporaryDirectory(prefix="skillstack-bm25-") as tmp:
        folder = Path(tmp)
        for name, parts in files.items():
            if "/" in name or name.startswith("."):  # a name is only ever a file bm25s wrote
                return None
            (folder / name).write_bytes(base64.b64decode("".join(parts[n] for n in range(expected[name]))))
        return LexicalIndex.load(folder)


__all__ = ["PART_CHARS", "load", "publish", "side_collection"]
