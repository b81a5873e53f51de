"""The configuration every training method shares, and the "auto" hyperparameter heuristics.

Holds TrainingConfig (keyword-only, help text per field; each method's config, e.g. sft.py's SFTConfig,
subclasses it beside its trainer), its loading from TOML/JSON mappings and flags, and the pure
functions that turn "auto" into numbers; not the training loops, not the method registry (methods.py).

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
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal, TypeVar, Union

from skillstack.coerce import coerce_field
from skillstack.cpu import auto_threads  # re-exported: the thread rule is shared with the ONNX embedder
from skillstack.errors import ConfigError

AUTO = "auto"
Auto = Literal["auto"]


def setting(text: str, default: Any = MISSING, *, factory: Any = MISSING, minimum: float | None = None) -> Any:
    """A config field with its help text (the flag's help) and, for numbers, the least value allowed."""
    metadata = {"help": text, "minimum": minimum}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(kw_only=True)
class TrainingConfig:
    """Hyperparameters every local training method shares; a method's config subclasses it.

    A subclass sets `method` (its registered name) and `base_learning_rate` (the LoRA learning rate
    it trains well with before the multiplier).
    """

    n_epochs: Union[int, Auto] = setting("Passes over the training data; 'auto' follows OpenAI's rule (3, kept within 100..25,000 examples seen).", AUTO, minimum=1)
    batch_size: Union[int, Auto] = setting("Examples per optimizer step; 'auto' is ~2% of the examples as a power of two in 1..32.", AUTO, minimum=1)
    learning_rate_multiplier: Union[float, Auto] = setting("Multiplier on the method's base LoRA learning rate; 'auto' is sqrt(batch_size/8) within 0.5..2.", AUTO, minimum=0)
    lora_r: int = setting("LoRA rank.", 8, minimum=1)
    lora_alpha: int = setting("LoRA scaling numerator (the update is scaled by alpha / r).", 16, minimum=0)
    lora_dropout: float = setting("Dropout on the LoRA input during training.", 0.05, minimum=0)
    target_modules: Union[str, list[str]] = setting("Modules that get LoRA adapters: 'all-linear' or a list of names such as ['q_proj', 'v_proj'].", "all-linear")
    seed: int = setting("Random seed for adapter initialisation, shuffling and sampling.", 42, minimum=0)
    max_seq_len: int = setting("Tokens per example; longer examples are cut at the end (the validator flags them first).", 1024, minimum=1)
    max_steps: int = setting("Stop after this many optimizer steps (0: run all epochs).", 0, minimum=0)
    init_adapter: str = setting("Skill folder whose LoRA adapter training starts from, e.g. DPO on top of an SFT skill "
                                "(DPO's reference is then that adapter); '' starts from fresh LoRA weights.", "")
    save_every: int = setting("Write a resumable checkpoint every N optimizer steps (0: only at the end).", 50, minimum=0)
    eval_every: int = setting("Compute validation loss every N steps (0: about ten times per run); needs a validation file.", 0, minimum=0)
    early_stopping_patience: int = setting("Stop after this many evaluations without a better validation loss (0: never).", 3, minimum=0)
    warmup_ratio: float = setting("Fraction of the steps over which the learning rate ramps up linearly.", 0.05, minimum=0)
    weight_decay: float = setting("AdamW weight decay on the LoRA weights.", 0.0, minimum=0)
    max_grad_norm: float = setting("Gradients are clipped to this global norm.", 1.0, minimum=0)
    gradient_checkpointing: bool = setting("Recompute activations in the backward pass: about 30% slower, far less memory on long examples.", False)
    qlora: Union[bool, Auto] = setting("Load the base model in 4 bits (QLoRA): 'auto' where a CUDA device is configured and bitsandbytes is installed, true to require it, false never.", AUTO)
    num_threads: int = setting("torch CPU threads (0: auto, one per idle core: cores minus the load of other processes, at least 1).", 0, minimum=0)

    method: ClassVar[str]
    base_learning_rate: ClassVar[float]

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, **asdict(self)}


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
                           learning_rate=config.base_learning_rate * multiplier,
                           steps_per_epoch=steps_per_epoch, total_steps=total)


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
        values[key] = coerce_field(cls, key, raw, origin=origin, from_text=True)
    return cls(**values)


__all__ = ["AUTO", "Hyperparameters", "TrainingConfig", "setting",
           "auto_batch_size", "auto_threads", "auto_learning_rate_multiplier", "auto_n_epochs", "config_from_mapping",
           "resolve_hyperparameters"]
