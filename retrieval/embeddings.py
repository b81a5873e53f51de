"""Embedding backends for chunks and queries: sentence-transformers on torch, or an int8 ONNX export.

The ONNX backend exports the configured sentence-transformers model once into settings.cache_dir
(transformer + mean pooling + L2 normalisation in one graph, MatMul weights quantized to int8 per
channel) and runs it with onnxruntime: about the same vectors (cosine > 0.99), less CPU per chunk.
Both return L2-normalised float32 rows. get_embedder is the one cache of embedders: every part
(ingest, retriever, router, graders) gets the same object per configuration. No model is loaded at import time.
embedder_identity names the configured model and fingerprints its weights, so a store can refuse vectors
of another one; an embedder trained by `skillstack train embedder` carries both in its manifest.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from skillstack.errors import ConfigError
from skillstack.io import atomic_folder
from skillstack.settings import EMBEDDED, Settings

BACKENDS = ("torch", "onnx")
EMBEDDER_MANIFEST = "skillstack-embedder.json"  # written by training/embedder.py beside a trained model
_ONNX_EXPORT_VERSION = 1
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


class OnnxEmbedder:
    """The same model exported to ONNX (pooling and normalisation included), weights int8, run by onnxruntime."""

    def __init__(self, settings: Settings, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        source = model_source(settings)
        self.name = f"{embedding_model_name(settings)} (onnx int8)"
        folder = export_onnx(settings)
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.max_length = _max_seq_length(source)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 8)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / "model.int8.onnx"), options, providers=["CPUExecutionProvider"])
        self.inputs = {item.name for item in self.session.get_inputs()}

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), 0), dtype=np.float32)
        # Sorting by length keeps padding (wasted compute) low inside each batch, as sentence-transformers does.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows: dict[int, np.ndarray] = {}
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            encoded = self.tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="np")
            feed = {name: encoded[name].astype(np.int64) for name in self.inputs}
            for i, row in zip(batch, self.session.run(None, feed)[0]):
                rows[i] = row
        if rows:
            out = np.stack([rows[i] for i in range(len(texts))]).astype(np.float32)
        return out

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(row) for row in self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]]


def model_source(settings: Settings) -> str:
    """Where the configured embedding model is read from: the embedded folder, a local folder or a hub id."""
    from skillstack.models import embedded_embedding_dir

    return str(embedded_embedding_dir()) if settings.embedding_model == EMBEDDED else settings.embedding_model


def _max_seq_length(source: str) -> int:
    import json

    config = Path(source) / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def export_onnx(settings: Settings) -> Path:
    """Export (once) the embedding model to settings.cache_dir; returns the folder holding model.int8.onnx.

    Written atomically, so a killed export leaves nothing half-written; when another process finished
    the same export first, its folder is kept.
    """
    safe = embedding_model_name(settings).replace("/", "--")
    target = settings.cache_dir / "embeddings" / f"{safe}-onnx-v{_ONNX_EXPORT_VERSION}"
    if (target / "model.int8.onnx").exists():
        return target
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    source = model_source(settings)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()

    class Pooled(torch.nn.Module):
        """Transformer + masked mean pooling + L2 normalisation: what all-MiniLM-L6-v2's modules.json does."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 (traced tensors)
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = tokenizer(["a sample sentence", "another, longer sample sentence for tracing"],
                       padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        raise ConfigError(f"embedding_backend=onnx supports BERT-style models (with token_type_ids); "
                          f"{source} has none: use embedding_backend=torch")
    dynamic = {0: "batch", 1: "tokens"}
    with atomic_folder(target, keep_existing=True) as tmp, torch.no_grad():
        torch.onnx.export(Pooled(model), (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
                          str(tmp / "model.onnx"), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "token_type_ids": dynamic,
                                        "embedding": {0: "batch"}})
        # Per-channel int8 on MatMul only: whole-graph per-tensor int8 costs ~5 points of cosine, this ~0.5.
        quantize_dynamic(str(tmp / "model.onnx"), str(tmp / "model.int8.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"])
        (tmp / "model.onnx").unlink()
    return target


def get_embedder(settings: Settings) -> Embedder:
    """The configured embedder (settings.embedding_backend), built once per process."""
    backend = settings.embedding_backend
    if backend not in BACKENDS:
        raise ConfigError(f"setting 'embedding_backend' must be one of {', '.join(BACKENDS)}, got {backend!r}")
    # The ONNX export lives under cache_dir; a torch model does not depend on it, so homes share one.
    key = (backend, settings.embedding_model, settings.device, str(settings.cache_dir) if backend == "onnx" else None)
    with _lock:
        if key not in _cache:
            _cache[key] = SentenceTransformerEmbedder(settings) if backend == "torch" else OnnxEmbedder(settings)
        return _cache[key]
