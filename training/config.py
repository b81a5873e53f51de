"""Training configurations (SFT, DPO, RFT) and the "auto" hyperparameter heuristics.

Holds keyword-only dataclasses with help text per field, their loading from TOML/JSON
mappings, and the pure functions that turn "auto" into numbers; not the training loops.

The "auto" rules follow OpenAI's fine-tuning defaults, scaled for LoRA on a small base:
- n_epochs: 3, raised so that at least 100 examples are seen in total (at most 25 epochs),
  lowered so that at most 25,000 are (at least 1 epoch): OpenAI's published rule.
- batch_size: about 2% of the training examples, rounded to a power of two, between 1 and 32
  (OpenAI uses ~0.2% capped at 256; LoRA on a small CPU base wants more, smaller steps).
- learning_rate_multiplier: scales the method's base LoRA learning rate by sqrt(batch_size / 8),
  clamped to [0.5, 2.0]: larger batches average noisier gradients, so they take larger steps.
"""

from __future__ import annotations

import math
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar, Union

from skillstack.errors import ConfigError

AUTO = "auto"
# Learning rates that LoRA adapters of small causal LMs train well with, before the multiplier.
BASE_LEARNING_RATE = {"sft": 1e-3, "dpo": 5e-5, "rft": 2e-5}

Auto = Literal["auto"]


def _help(text: str, default: Any = MISSING, factory: Any = MISSING) -> Any:
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"help": text})
    return field(default=default, metadata={"help": text})


@dataclass(kw_only=True)
class TrainingConfig:
    """Hyperparameters every local training method shares."""

    n_epochs: Union[int, Auto] = _help("Passes over the training data; 'auto' follows OpenAI's rule (3, kept within 100..25,000 examples seen).", AUTO)
    batch_size: Union[int, Auto] = _help("Examples per optimizer step; 'auto' is ~2% of the examples as a power of two in 1..32.", AUTO)
    learning_rate_multiplier: Union[float, Auto] = _help("Multiplier on the method's base LoRA learning rate; 'auto' is sqrt(batch_size/8) within 0.5..2.", AUTO)
    lora_r: int = _help("LoRA rank.", 8)
    lora_alpha: int = _help("LoRA scaling numerator (the update is scaled by alpha / r).", 16)
    lora_dropout: float = _help("Dropout on the LoRA input during training.", 0.05)
    target_modules: Union[str, list[str]] = _help("Modules that get LoRA adapters: 'all-linear' or a list of names such as ['q_proj', 'v_proj'].", "all-linear")
    seed: int = _help("Random seed for adapter initialisation, shuffling and sampling.", 42)
    max_seq_len: int = _help("Tokens per example; longer examples are cut at the end (the validator flags them first).", 1024)
    max_steps: int = _help("Stop after this many optimizer steps (0: run all epochs).", 0)
    save_every: int = _help("Write a resumable checkpoint every N optimizer steps (0: only at the end).", 50)
    eval_every: int = _help("Compute validation loss every N steps (0: about ten times per run); needs a validation file.", 0)
    early_stopping_patience: int = _help("Stop after this many evaluations without a better validation loss (0: never).", 3)
    warmup_ratio: float = _help("Fraction of the steps over which the learning rate ramps up linearly.", 0.05)
    weight_decay: float = _help("AdamW weight decay on the LoRA weights.", 0.0)
    max_grad_norm: float = _help("Gradients are clipped to this global norm.", 1.0)
    gradient_checkpointing: bool = _help("Recompute activations in the backward pass: about 30% slower, far less memory on long examples.", False)
    qlora: bool = _help("Load the base model in 4 bits (QLoRA); needs bitsandbytes and a CUDA GPU.", False)
    num_threads: int = _help("torch CPU threads (0: auto, one per idle core: cores minus the load of other processes, at least 1).", 0)

    method = "sft"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, **asdict(self)}


@dataclass(kw_only=True)
class SFTConfig(TrainingConfig):
    """Supervised fine-tuning: the loss covers assistant tokens only (those with weight 1)."""


@dataclass(kw_only=True)
class DPOConfig(TrainingConfig):
    """Direct preference optimisation from preferred / non-preferred pairs."""

    beta: float = _help("DPO temperature: how far the adapter may move from the base model's preferences.", 0.1)

    method = "dpo"


@dataclass(kw_only=True)
class RFTConfig(TrainingConfig):
    """Reinforcement fine-tuning: sample completions, score them with a grader, update the adapter (GRPO)."""

    grader: dict[str, Any] = _help("Grader spec in OpenAI's grader JSON (string_check, text_similarity, python, multi, ...).", factory=dict)
    n_samples: int = _help("Completions sampled per prompt; their rewards are compared within the group.", 4)
    max_completion_tokens: int = _help("Tokens per sampled completion.", 64)
    temperature: float = _help("Sampling temperature for the completions.", 1.0)
    beta: float = _help("KL penalty towards the base model (0 skips the reference model).", 0.0)

    method = "rft"


CONFIG_CLASSES: dict[str, type[TrainingConfig]] = {"sft": SFTConfig, "dpo": DPOConfig, "rft": RFTConfig}
C = TypeVar("C", bound=TrainingConfig)


@dataclass(kw_only=True, frozen=True)
class Hyperparameters:
    """The numbers a run actually uses once "auto" is resolved (recorded in the skill's provenance)."""

    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    learning_rate: float
    steps_per_epoch: int
    total_steps: int


def auto_n_epochs(n_examples: int) -> int:
    """OpenAI's rule: 3 epochs, kept so that 100..25,000 examples are seen in total, within 1..25 epochs."""
    if n_examples <= 0:
        raise ConfigError("cannot pick n_epochs for an empty dataset")
    if n_examples * 3 < 100:
        return min(25, math.ceil(100 / n_examples))
    if n_examples * 3 > 25_000:
        return max(1, 25_000 // n_examples)
    return 3


def auto_batch_size(n_examples: int) -> int:
    """About 2% of the examples, rounded to a power of two, within 1..32."""
    target = max(1.0, n_examples * 0.02)
    return int(min(32, max(1, 2 ** round(math.log2(target)))))


def auto_learning_rate_multiplier(batch_size: int) -> float:
    """sqrt(batch_size / 8) within 0.5..2: larger batches take larger steps."""
    return round(min(2.0, max(0.5, math.sqrt(batch_size / 8))), 4)


def auto_threads(cores: int, load: float, most: int) -> int:
    """Threads for a training process: one per idle core, counting this process as one of the load.

    On a busy CPU, more threads than idle cores make every matmul wait for preempted threads
    (measured here: a forward pass 12x slower with 2 threads than with 1 on a 2-core machine under load 11).
    """
    idle = cores - max(0.0, load - 1.0)
    return int(max(1, min(most, round(idle))))


def resolve_hyperparameters(config: TrainingConfig, n_examples: int) -> Hyperparameters:
    """Turn a config's "auto" fields into numbers for a dataset of n_examples training examples."""
    n_epochs = auto_n_epochs(n_examples) if config.n_epochs == AUTO else int(config.n_epochs)
    batch_size = auto_batch_size(n_examples) if config.batch_size == AUTO else int(config.batch_size)
    batch_size = min(batch_size, n_examples)
    multiplier = (auto_learning_rate_multiplier(batch_size) if config.learning_rate_multiplier == AUTO
                  else float(config.learning_rate_multiplier))
    steps_per_epoch = math.ceil(n_examples / batch_size)
    total = steps_per_epoch * n_epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    return Hyperparameters(n_epochs=n_epochs, batch_size=batch_size, learning_rate_multiplier=multiplier,
                           learning_rate=BASE_LEARNING_RATE[config.method] * multiplier,
                           steps_per_epoch=steps_per_epoch, total_steps=total)


def _coerce(cls: type, name: str, raw: Any, origin: str) -> Any:
    """Check one value against the field's type; "auto" is accepted where the field allows it."""
    hint = typing.get_type_hints(cls)[name]
    options = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
    if raw == AUTO and any(typing.get_origin(o) is Literal for o in options):
        return AUTO
    for option in options:
        base = typing.get_origin(option) or option
        if base is bool and isinstance(raw, bool):
            return raw
        if base is bool and isinstance(raw, str) and raw.lower() in {"true", "false", "1", "0", "yes", "no"}:
            return raw.lower() in {"true", "1", "yes"}
        if base in (int, float) and not isinstance(raw, bool):
            try:
                value = base(raw)
            except (TypeError, ValueError):
                continue
            if base is int and isinstance(raw, float) and value != raw:
                continue
            if value < 0:
                raise ConfigError(f"{origin}: '{name}' must not be negative, got {raw!r}")
            return value
        if base is str and isinstance(raw, str):
            return raw
        if base is list and isinstance(raw, list) and all(isinstance(i, str) for i in raw):
            return list(raw)
        if base is dict and isinstance(raw, dict):
            return raw
    allowed = " or ".join(getattr(typing.get_origin(o) or o, "__name__", str(o)) for o in options)
    allowed = allowed.replace("Literal", "'auto'")
    raise ConfigError(f"{origin}: '{name}' must be {allowed}, got {raw!r}")


def config_from_mapping(cls: type[C], data: dict[str, Any], *, origin: str = "config") -> C:
    """Build a config from a TOML/JSON mapping (or flags); unknown or mistyped keys raise ConfigError naming them."""
    names = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key == "method":
            if raw != cls.method:
                raise ConfigError(f"{origin}: method is {raw!r} but this is `train {cls.method}`")
            continue
        if key not in names:
            raise ConfigError(f"{origin}: unknown setting '{key}' for {cls.method}; known: {', '.join(sorted(names))}")
        values[key] = _coerce(cls, key, raw, origin)
    config = cls(**values)
    for key in ("batch_size", "n_epochs", "lora_r", "max_seq_len"):
        if getattr(config, key) in (0,):
            raise ConfigError(f"{origin}: '{key}' must be at least 1")
    return config


__all__ = ["AUTO", "CONFIG_CLASSES", "DPOConfig", "Hyperparameters", "RFTConfig", "SFTConfig", "TrainingConfig",
           "auto_batch_size", "auto_threads", "auto_learning_rate_multiplier", "auto_n_epochs", "config_from_mapping",
           "resolve_hyperparameters"]
