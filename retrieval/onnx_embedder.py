"""The ONNX embedding backends: the configured sentence-transformers model exported once, run by onnxruntime.

export_onnx writes two graphs into settings.cache_dir (transformer + mean pooling + L2 normalisation in
one graph each): model.onnx, float32 with onnxruntime's BERT fusions (Attention, SkipLayerNormalization,
BiasGelu: the same vectors as torch to float rounding), and model.int8.onnx, its weight MatMuls quantized
to int8 per channel (attention scores and LayerNorm stay float32; cosine to torch ~0.99, less CPU).
OnnxEmbedder runs either one. Not the embedder cache (embeddings.get_embedder) nor the torch backend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from skillstack.cpu import idle_threads
from skillstack.errors import ConfigError
from skillstack.io import atomic_folder
from skillstack.settings import Settings
from .embeddings import embedding_model_name, model_source

# v2: float32 fused graph beside the int8 one, exported with eager attention so the fusions apply.
_EXPORT_VERSION = 2
PRECISIONS = {"float32": "model.onnx", "int8": "model.int8.onnx"}


class OnnxEmbedder:
    """The exported model run by onnxruntime, float32 or int8; batches sorted by token count (little padding).

    Two sessions: batches (ingest, re-embed) run on one thread per idle core, counted when the embedder is
    built; a single text (a query) runs on one thread, where a second thread only adds hand-over cost for
    ~20 tokens and, on a loaded machine, waits for a preempted peer. Threads never spin while waiting, so
    an idle pool gives its core back to the machine's other processes.
    """

    def __init__(self, settings: Settings, *, precision: str = "float32", threads: int | None = None) -> None:
        from transformers import AutoTokenizer

        if precision not in PRECISIONS:
            raise ConfigError(f"ONNX embedder precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        source = model_source(settings)
        self.name = f"{embedding_model_name(settings)} (onnx {precision})"
        self.path = export_onnx(settings) / PRECISIONS[precision]
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.max_length = _max_seq_length(source)
        self.threads = threads or idle_threads(most=8)
        self._batch = self._session(self.threads)
        self._single = self._batch if self.threads == 1 else None  # built on the first single-text call
        self.inputs = {item.name for item in self._batch.get_inputs()}

    def _session(self, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if len(texts) == 1 and self._single is None:
            self._single = self._session(1)
        session = self._single if len(texts) == 1 else self._batch
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_length)
        # Longest first, by tokens: each padded batch then holds rows of about one length.
        order = sorted(range(len(texts)), key=lambda i: -len(ids["input_ids"][i]))
        out = np.empty((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            padded = self.tokenizer.pad({name: [ids[name][i] for i in batch] for name in ids.keys()}, return_tensors="np")
            vectors = session.run(None, {name: padded[name].astype(np.int64) for name in self.inputs})[0]
            if out.shape[1] == 0:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[batch] = vectors
        return out

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(row) for row in self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]]


def _max_seq_length(source: str) -> int:
    config = Path(source) / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def export_onnx(settings: Settings) -> Path:
    """Export (once) the embedding model to settings.cache_dir; returns the folder holding both graphs.

    Written atomically, so a killed export leaves nothing half-written; when another process finished
    the same export first, its folder is kept.
    """
    safe = embedding_model_name(settings).replace("/", "--")
    target = settings.cache_dir / "embeddings" / f"{safe}-onnx-v{_EXPORT_VERSION}"
    if all((target / name).exists() for name in PRECISIONS.values()):
        return target
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel, AutoTokenizer

    source = model_source(settings)
    tokenizer = AutoTokenizer.from_pretrained(source)
    # Eager attention traces to the MatMul/Softmax pattern onnxruntime fuses into one Attention op (SDPA does not).
    model = AutoModel.from_pretrained(source, attn_implementation="eager").eval()

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
        traced = tmp / "traced.onnx"
        torch.onnx.export(Pooled(model), (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
                          str(traced), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "token_type_ids": dynamic,
                                        "embedding": {0: "batch"}})
        # opt_level 1 keeps the saved graph portable; the session adds the hardware-specific passes at load.
        fused = optimize_model(str(traced), model_type="bert", num_heads=model.config.num_attention_heads,
                               hidden_size=model.config.hidden_size, opt_level=1)
        fused.save_model_to_file(str(tmp / PRECISIONS["float32"]))
        # int8 from the unfused graph (the quantizer cannot type the fused ops): weight MatMuls only, per
        # output channel; whole-graph per-tensor int8 costs ~5 points of cosine, this ~0.5.
        quantize_dynamic(str(traced), str(tmp / PRECISIONS["int8"]), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"])
        traced.unlink()
    return target
