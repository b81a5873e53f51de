"""A trainable copy of the base model with LoRA adapters, fresh or continued from a skill (QLoRA by default where
bitsandbytes and CUDA exist; the base is bfloat16 on any GPU, models.py's default).

Holds model construction for every local trainer; the shared inference model in
skillstack.models is never trained (training mutates weights and would leak into other callers).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skillstack.errors import TrainingError
from skillstack.models import base_model_id, load_base_model, load_tokenizer
from skillstack.settings import Settings
from .config import TrainingConfig, auto_threads


def lora_config(config: TrainingConfig) -> Any:
    """PEFT's LoraConfig for a causal LM from the run's config."""
    from peft import LoraConfig

    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.target_modules, bias="none", task_type="CAUSAL_LM")


def wants_qlora(setting: bool | str, *, cuda: bool, bitsandbytes: bool) -> bool:
    """Whether to load the base in 4 bits: 'auto' does where it can (a CUDA device and bitsandbytes), true must
    (TrainingError naming what is missing), false never."""
    if setting == "auto":
        return cuda and bitsandbytes
    if setting and not cuda:
        raise TrainingError("qlora needs a CUDA GPU (set device = \"cuda\"); on CPU train plain LoRA (qlora = false)")
    if setting and not bitsandbytes:
        raise TrainingError("qlora needs bitsandbytes: pip install bitsandbytes (or set qlora = false)")
    return bool(setting)


def quantization_config(settings: Settings, config: TrainingConfig) -> Any | None:
    """4-bit NF4 loading with bfloat16 compute for QLoRA, when wants_qlora says so."""
    if config.qlora is False:
        return None
    import torch

    cuda = settings.device.startswith("cuda") and torch.cuda.is_available()
    if not wants_qlora(config.qlora, cuda=cuda, bitsandbytes=importlib.util.find_spec("bitsandbytes") is not None):
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


@contextmanager
def training_threads(config: TrainingConfig) -> Iterator[int]:
    """torch's CPU thread count for a run (config.num_threads, or auto: one per idle core); restored afterwards."""
    import torch

    from .distributed import world

    before = torch.get_num_threads()
    # With --nproc N the idle cores are shared by N workers.
    threads = config.num_threads or max(1, auto_threads(os.cpu_count() or 1, os.getloadavg()[0], before) // world()[1])
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def load_base_for_training(settings: Settings, config: TrainingConfig) -> tuple[Any, Any]:
    """A private copy of the base causal LM (training changes its weights) and the shared tokenizer."""
    quantization = quantization_config(settings, config)
    model = load_base_model(settings, private=True, quantization=quantization)
    if quantization is not None:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    return model, load_tokenizer(settings)


def load_lora_model(settings: Settings, config: TrainingConfig) -> tuple[Any, Any]:
    """Base model with LoRA adapters ready to train (fresh and seeded, or config.init_adapter's), and the tokenizer."""
    import torch
    from peft import PeftModel, get_peft_model

    model, tokenizer = load_base_for_training(settings, config)
    torch.manual_seed(config.seed)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.init_adapter:
        start = Path(config.init_adapter).expanduser()
        if not (start / "adapter_config.json").is_file():
            raise TrainingError(f"init_adapter {start}: no adapter_config.json there; give a trained skill folder")
        # The adapter's own rank and targets win over lora_r/target_modules: training continues it.
        peft_model = PeftModel.from_pretrained(model, str(start), is_trainable=True)
    else:
        peft_model = get_peft_model(model, lora_config(config))
    # Recorded in adapter_config.json: the portable identity, not this machine's cache path.
    peft_model.peft_config["default"].base_model_name_or_path = base_model_id(settings)
    return peft_model, tokenizer


__all__ = ["load_base_for_training", "load_lora_model", "lora_config", "quantization_config", "training_threads",
           "wants_qlora"]
