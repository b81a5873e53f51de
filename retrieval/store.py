"""The Chroma side of the store: client, collection, and the one-writer lock (no search, no BM25).

Embedded mode keeps Chroma under settings.store_dir/chroma (PersistentClient); setting chroma_host uses
an HttpClient instead. The collection records which embedder built it (name + weights
fingerprint); a store built by another is refused, never silently mixed. Embedded Chroma is not process-safe, so
every writer holds store_dir/write.lock, whose companion file names the holder's PID for the error the second
writer sees; a Chroma server serialises its own writes, so its clients take no file lock (writes are
idempotent upserts of content-hashed chunks, and the BM25 index is versioned by the ids it covers).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from skillstack.errors import StoreError
from skillstack.settings import Settings
from .embeddings import EmbedderIdentity

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

EMBEDDING_KEY = "skillstack_embedding_model"
FINGERPRINT_KEY = "skillstack_embedding_fingerprint"


def chroma_dir(settings: Settings):
    return settings.store_dir / "chroma"


def store_exists(settings: Settings) -> bool:
    return bool(settings.chroma_host) or (chroma_dir(settings) / "chroma.sqlite3").exists()


def open_client(settings: Settings) -> ClientAPI:
    """A Chroma client for this store, telemetry off, never reset by accident."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:  # connection refused, bad host: one line naming the server
            raise StoreError(f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                             f"({exc}); start it or unset chroma_host") from exc
    chroma_dir(settings).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(chroma_dir(settings)), settings=chroma_settings)


def open_collection(settings: Settings, *, create: bool, embedder: EmbedderIdentity | None = None) -> Collection:
    """The documents collection; StoreError when it does not exist and create is False, or (given the
    configured embedder) when another embedder built it."""
    if not create and not store_exists(settings):
        raise StoreError(f"no knowledge store at {settings.store_dir}; run `skillstack ingest PATH` first "
                         "(or pass --home pointing at an existing one)")
    client = open_client(settings)
    if create:
        if embedder is None:
            raise ValueError("creating a collection needs the embedder that will fill it")
        collection = client.get_or_create_collection(settings.collection, embedding_function=None,
                                                     metadata={"hnsw:space": "cosine", **built_by(embedder)})
    else:
        try:
            collection = client.get_collection(settings.collection, embedding_function=None)
        except Exception as exc:  # chromadb raises NotFoundError (or ValueError in older releases)
            raise StoreError(f"the store at {settings.store_dir} has no collection {settings.collection!r}; "
                             "run `skillstack ingest PATH` first") from exc
    check_built_by(settings, collection, embedder)
    return collection


def built_by(embedder: EmbedderIdentity) -> dict[str, Any]:
    """The collection metadata recording what built the store."""
    return {EMBEDDING_KEY: embedder.name, FINGERPRINT_KEY: embedder.fingerprint}


def check_built_by(settings: Settings, collection: Collection, embedder: EmbedderIdentity | None) -> None:
    if embedder is None:
        return
    recorded = collection.metadata or {}
    stored = EmbedderIdentity(name=str(recorded.get(EMBEDDING_KEY, "")),
                              # a store from before fingerprints were recorded is trusted by name
                              fingerprint=str(recorded.get(FINGERPRINT_KEY, embedder.fingerprint)))
    if stored != embedder:
        raise StoreError(f"the store at {settings.store_dir} was built with embedder {stored}, but embedding_model "
                         f"is {embedder}; set embedding_model back, or run `skillstack reembed` to rebuild the "
                         "store's vectors with the configured one")


def record_built_by(collection: Collection, embedder: EmbedderIdentity) -> None:
    """After a re-embed: the collection now records the new embedder (its other metadata kept)."""
    metadata = {key: value for key, value in (collection.metadata or {}).items() if not key.startswith("hnsw:")}
    collection.modify(metadata={**metadata, **built_by(embedder)})


def read_all(collection: Collection, *, batch: int = 5000) -> dict[str, list[Any]]:
    """Every id, document and metadata in the collection, paged so large stores stay within memory limits."""
    out: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": []}
    offset = 0
    while True:
        page = collection.get(include=["documents", "metadatas"], limit=batch, offset=offset)
        for key in out:
            out[key].extend(page[key] or [])
        if len(page["ids"]) < batch:
            return out
        offset += batch


def _pid_file(settings: Settings):
    return settings.store_dir / "write.pid"


@contextlib.contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's writer lock; a second writer gets StoreError naming the holder's PID.

    An OS-level lock (filelock): the kernel drops it when the holder dies, even by SIGKILL,
    so a killed ingest never leaves the store locked. With a Chroma server there is no local store to
    guard (several agent servers write one server), so nothing is locked.
    """
    from filelock import FileLock, Timeout

    if settings.chroma_host:
        yield
        return

    settings.store_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.store_dir / "write.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = _pid_file(settings).read_text().strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise StoreError(f"store {settings.store_dir} is locked by PID {holder} (another skillstack process is "
                         "writing it); wait for it to finish and run the command again") from None
    try:
        _pid_file(settings).write_text(str(os.getpid()))
        yield
    finally:
        with contextlib.suppress(OSError):
            _pid_file(settings).unlink()
        lock.release()
