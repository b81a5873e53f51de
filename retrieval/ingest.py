"""Incremental, idempotent ingest of files and folders into the store (pruning what is gone), and removal of a source.

Chunk ids are content hashes, so a file's wanted ids are known before any embedding: unchanged files
write nothing, changed files embed only their new chunks and drop the stale ones, and a run killed
mid-way is finished by the next run (upserts are idempotent; the BM25 index is rebuilt from Chroma
whenever its id digest disagrees). One writer at a time on an embedded store (store.write_lock); a Chroma
server takes several. reembed_store rebuilds every vector with the configured embedder (after
`skillstack train embedder`, or to switch models).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import DocumentError, StoreError
from skillstack.settings import Settings
from . import store
from .chunking import DEFAULT_MAX_CHARS, Chunk, chunk_text
from .embeddings import Embedder, EmbedderIdentity, embedder_identity, get_embedder
from .lexical import current_index
from .loaders import is_supported, load_document

DEFAULT_BATCH = 64


@dataclass(kw_only=True)
class IngestReport:
    added: list[str] = field(default_factory=list, metadata={"help": "Files new to the store."})
    updated: list[str] = field(default_factory=list, metadata={"help": "Files whose chunks changed."})
    unchanged: list[str] = field(default_factory=list, metadata={"help": "Files already in the store as they are."})
    skipped: list[str] = field(default_factory=list, metadata={"help": "Warnings: unsupported files, skipped."})
    errors: list[str] = field(default_factory=list, metadata={"help": "One line per file that could not be ingested."})
    removed: list[str] = field(default_factory=list, metadata={"help": "With prune: sources this run did not see, deleted."})
    chunks_written: int = 0
    chunks_deleted: int = 0
    total_chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expand_paths(paths: list[Path], report: IngestReport) -> list[Path]:
    """Files named or found (recursively, hidden ones left out) under the given paths, each once, sorted."""
    files: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                if found.is_file() and not any(part.startswith(".") for part in relative.parts):
                    files.setdefault(found.resolve())
        elif path.is_file():
            files.setdefault(path.resolve())
        else:
            report.errors.append(f"{path}: no such file or folder")
    return list(files)


def _prepare(files: list[Path], report: IngestReport, max_chars: int, progress: bool) -> dict[str, list[Chunk]]:
    from tqdm import tqdm

    prepared: dict[str, list[Chunk]] = {}
    for path in tqdm(files, desc="reading", unit="file", disable=not progress or len(files) < 2, file=sys.stderr):
        if not is_supported(path):
            report.skipped.append(f"{path}: unsupported file type {path.suffix or '(no suffix)'}, skipped")
            continue
        try:
            document = load_document(path)
        except DocumentError as exc:
            report.errors.append(str(exc))
            continue
        prepared[document.source] = chunk_text(document.text, source=document.source, max_chars=max_chars)
    return prepared


def ingest_paths(settings: Settings, paths: list[Path], *, progress: bool = True, embedder: Embedder | None = None,
                 batch_size: int = DEFAULT_BATCH, max_chars: int = DEFAULT_MAX_CHARS, prune: bool = False) -> IngestReport:
    """Ingest files and folders; bad files are reported in IngestReport.errors while the rest still go in.

    prune: the store then holds these paths only: every source the run did not find (a file deleted from
    the folder, a folder ingested from another place) is deleted; a file found but unreadable keeps its chunks.
    """
    from tqdm import tqdm

    report = IngestReport()
    files = expand_paths([Path(p) for p in paths], report)
    prepared = _prepare(files, report, max_chars, progress)
    with store.write_lock(settings):
        collection = store.open_collection(settings, create=True, embedder=embedder_identity(settings))
        plan: list[Chunk] = []
        stale: list[str] = []
        for source, chunks in prepared.items():
            existing = set(collection.get(where={"source": source}, include=[])["ids"])
            wanted = {chunk.id for chunk in chunks}
            missing = [chunk for chunk in chunks if chunk.id not in existing]
            gone = sorted(existing - wanted)
            if not missing and not gone:
                report.unchanged.append(source)
                continue
            (report.updated if existing else report.added).append(source)
            plan.extend(missing)
            stale.extend(gone)
        if prune:
            found = {str(path) for path in files}
            everything = store.read_all(collection)
            sources = [str((meta or {}).get("source", "")) for meta in everything["metadatas"]]
            stale.extend(i for i, source in zip(everything["ids"], sources, strict=True) if source not in found)
            report.removed = list(dict.fromkeys(source for source in sources if source not in found))
        if plan:
            embedder = embedder or get_embedder(settings)
            with tqdm(total=len(plan), desc="embedding", unit="chunk", disable=not progress, file=sys.stderr) as bar:
                for start in range(0, len(plan), batch_size):
                    batch = plan[start:start + batch_size]
                    vectors = embedder.embed([chunk.text for chunk in batch], batch_size=batch_size)
                    # Upsert, not add: a re-run after a kill may write a batch that partly landed already.
                    collection.upsert(ids=[c.id for c in batch], documents=[c.text for c in batch],
                                      metadatas=[c.metadata for c in batch], embeddings=vectors.tolist())
                    report.chunks_written += len(batch)
                    bar.update(len(batch))
        for start in range(0, len(stale), 5000):
            collection.delete(ids=stale[start:start + 5000])
        report.chunks_deleted = len(stale)
        index = current_index(settings, collection, rebuild=bool(plan or stale), save=True)
        report.total_chunks = len(index.ids)
    return report


def reembed_store(settings: Settings, *, progress: bool = True, batch_size: int = DEFAULT_BATCH) -> int:
    """Re-embed every chunk with the configured embedder and record it on the store; returns the chunk count.

    The store is first marked as being re-embedded, so a run killed half-way leaves a store that every
    reader refuses (half its vectors are of each model) until `skillstack reembed` runs again."""
    from tqdm import tqdm

    identity = embedder_identity(settings)
    with store.write_lock(settings):
        collection = store.open_collection(settings, create=False)
        store.record_built_by(collection, EmbedderIdentity(name=f"{identity.name} (re-embedding unfinished)",
                                                           fingerprint=""))
        everything = store.read_all(collection)
        embedder = get_embedder(settings)
        rows = list(zip(everything["ids"], everything["documents"], everything["metadatas"]))
        with tqdm(total=len(rows), desc="re-embedding", unit="chunk", disable=not progress, file=sys.stderr) as bar:
            for start in range(0, len(rows), batch_size):
                batch = rows[start:start + batch_size]
                vectors = embedder.embed([text or "" for _, text, _ in batch], batch_size=batch_size)
                collection.update(ids=[i for i, _, _ in batch], embeddings=vectors.tolist())
                bar.update(len(batch))
        store.record_built_by(collection, identity)
    return len(rows)


def remove_source(settings: Settings, path: Path) -> int:
    """Delete the chunks of one file, or of every file under a folder; returns how many were deleted."""
    if not store.store_exists(settings):
        raise StoreError(f"no knowledge store at {settings.store_dir}; nothing to remove")
    target = str(Path(path).expanduser().resolve())
    with store.write_lock(settings):
        collection = store.open_collection(settings, create=False)
        ids = collection.get(where={"source": target}, include=[])["ids"]
        if not ids:  # maybe a folder: every source below it
            everything = store.read_all(collection)
            prefix = target.rstrip("/") + "/"
            ids = [i for i, m in zip(everything["ids"], everything["metadatas"])
                   if str((m or {}).get("source", "")).startswith(prefix)]
        for start in range(0, len(ids), 5000):
            collection.delete(ids=ids[start:start + 5000])
        current_index(settings, collection, rebuild=bool(ids), save=True)
    return len(ids)
