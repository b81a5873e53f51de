"""Embedding backends for chunks and queries (sentence-transformers on torch, or ONNX) and their one cache.

The ONNX backends (onnx_embedder.py) export the configured model once into settings.cache_dir and run it
with onnxruntime: "onnx" in float32 (the same vectors as torch), "onnx-int8" with int8 weights (cosine
~0.99). All return L2-normalised float32 rows. get_embedder is the one cache of embedders: every part
(ingest, retriever, router, graders) gets the same object per configuration. No model is loaded at import time.
embedder_identity names the configured model and fingerprints its weights, so a store can refuse vectors
of another one; an embedder trained by `skillstack train embedder` carries both in its manifest.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from skillstack.errors import ConfigError
from skillstack.settings import EMBEDDED, Settings

BACKENDS = {"torch": None, "onnx": "float32", "onnx-int8": "int8"}  # backend -> ONNX precision
EMBEDDER_MANIFEST = "skillstack-embedder.json"  # written by training/embedder.py beside a trained model
_lock = threading.RLock()  # held while building an embedder, which may export
_cache: dict[tuple[Any, ...], Embedder] = {}


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """How many tokens of each text the model reads (after truncation to its maximum length)."""
        ...


@dataclass(frozen=True, kw_only=True)
class EmbedderIdentity:
    name: str
    fingerprint: str

    def __str__(self) -> str:
        return f"{self.name!r} (fingerprint {self.fingerprint[:12] or 'none'})"


def embedding_model_name(settings: Settings) -> str:
    """The configured model's name: a trained embedder's own name, else the model id or path."""
    from skillstack.models import EMBEDDED_EMBEDDING_ID

    if settings.embedding_model == EMBEDDED:
        return EMBEDDED_EMBEDDING_ID
    manifest = read_embedder_manifest(Path(settings.embedding_model).expanduser())
    return str(manifest["name"]) if manifest else settings.embedding_model


def read_embedder_manifest(folder: Path) -> dict[str, Any] | None:
    """A trained embedder's manifest, or None when the folder holds none (any other model)."""
    path = folder / EMBEDDER_MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable embedder manifest ({exc}); retrain or point embedding_model elsewhere") from exc
    if not isinstance(manifest, dict) or not manifest.get("name") or not manifest.get("fingerprint"):
        raise ConfigError(f"{path}: embedder manifest without 'name' and 'fingerprint'")
    return manifest


def weights_fingerprint(folder: Path) -> str:
    """sha256 of a model folder's weight files (what makes its vectors what they are)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".safetensors", ".bin") and p.is_file())
    return _hash_files(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@functools.cache
def _hash_files(files: tuple[tuple[str, int, int], ...]) -> str:  # size and mtime in the key: a changed file rehashes
    digest = hashlib.sha256()
    for name, _, _ in files:
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def embedder_identity(settings: Settings) -> EmbedderIdentity:
    """Name and weights fingerprint of the configured embedder (a hub id not on disk: fingerprint empty)."""
    folder = Path(model_source(settings)).expanduser()
    manifest = read_embedder_manifest(folder)
    if manifest:
        return EmbedderIdentity(name=str(manifest["name"]), fingerprint=str(manifest["fingerprint"]))
    return EmbedderIdentity(name=embedding_model_name(settings),
                            fingerprint=weights_fingerprint(folder) if folder.is_dir() else "")


class SentenceTransformerEmbedder:
    """sentence-transformers on torch: the reference backend (a new model per instance; get_embedder caches)."""

    def __init__(self, settings: Settings) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = f"{embedding_model_name(settings)} (torch)"
        self.model = SentenceTransformer(model_source(settings), device=settings.device, trust_remote_code=False)

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        ids = self.model.tokenizer(list(texts), truncation=True, max_length=self.model.max_seq_length)["input_ids"]
        return [len(row) for row in ids]


def model_source(settings: Settings) -> str:
    """Where the configured embedding model is read from: the embedded folder, a local folder or a hub id."""
    from skillstack.models import embedded_embedding_dir

    return str(embedded_embedding_dir()) if settings.embedding_model == EMBEDDED else settings.embedding_model


def get_embedder(settings: Settings) -> Embedder:
    """The configured embedder (settings.embedding_backend), built once per process."""
    backend = settings.embedding_backend
    if backend not in BACKENDS:
        raise ConfigError(f"setting 'embedding_backend' must be one of {', '.join(BACKENDS)}, got {backend!r}")
    # The ONNX export lives under cache_dir; a torch model does not depend on it, so homes share one.
    precision = BACKENDS[backend]
    key = (backend, settings.embedding_model, settings.device, str(settings.cache_dir) if precision else None)
    with _lock:
        if key not in _cache:
            if precision is None:
                _cache[key] = SentenceTransformerEmbedder(settings)
            else:
                from .onnx_embedder import OnnxEmbedder

                _cache[key] = OnnxEmbedder(settings, precision=precision)
        return _cache[key]
