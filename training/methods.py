"""The registry of training methods, and TrainJob, the one object every method's train function takes.

Holds `register_method` (one validating function filling one Registry, as PEFT's register_peft_method),
the lookup that loads the built-ins (sft.py, dpo.py, rft.py register themselves exactly like a
plugin module would) and entry-point plugins (group "skillstack.training_methods", each naming a
module that calls register_method). `skillstack train` builds one subcommand per method, with flags
from its config's fields. Not here: the training loops, the CLI itself.

A new method (KTO, ORPO) is one module: a TrainingConfig subclass, a train(settings, job) function,
and one register_method call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from skillstack.errors import ConfigError
from skillstack.registry import Registry
from .config import TrainingConfig
from .data.formats import FORMATS

if TYPE_CHECKING:
    from skillstack.settings import Settings
    from .skill_writer import SkillSpec

BUILTIN_MODULES = ("skillstack.training.sft", "skillstack.training.dpo", "skillstack.training.rft")
ENTRY_POINT_GROUP = "skillstack.training_methods"


@dataclass(kw_only=True)
class TrainJob:
    """One training run: what to learn from, what to write, and the skill it becomes."""

    train_file: Path = field(metadata={"help": "Training JSONL in the method's data format."})
    output_dir: Path = field(metadata={"help": "Skill folder to write (replaced atomically when done)."})
    config: TrainingConfig = field(metadata={"help": "The method's hyperparameters."})
    skill: SkillSpec = field(metadata={"help": "Name, kind, prompt and output of the skill the run becomes."})
    validation_file: Path | None = field(default=None, metadata={"help": "Validation JSONL: validation loss and early stopping."})
    progress: bool = field(default=True, metadata={"help": "Show a progress bar."})

    def __post_init__(self) -> None:
        self.train_file, self.output_dir = Path(self.train_file), Path(self.output_dir)
        self.validation_file = Path(self.validation_file) if self.validation_file else None


Train = Callable[["Settings", TrainJob], Path]


@dataclass(kw_only=True, frozen=True)
class TrainingMethod:
    """A registered method: its config class (flags and file keys), data format and train function."""

    name: str
    config_cls: type[TrainingConfig]
    data_format: str
    train: Train
    help: str


_METHODS: Registry[TrainingMethod] = Registry("training method", name_pattern=r"^[a-z][a-z0-9_]*$", error=ConfigError,
                                              builtin_modules=BUILTIN_MODULES, entry_point_group=ENTRY_POINT_GROUP)


def register_method(*, name: str, config_cls: type[TrainingConfig], data_format: str, train: Train,
                    help: str) -> TrainingMethod:
    """Make a training method available to `skillstack train` (the one way in, for built-ins and plugins)."""
    _METHODS.check_name(name)
    if not (isinstance(config_cls, type) and issubclass(config_cls, TrainingConfig)):
        raise ConfigError(f"training method {name!r}: config_cls must subclass TrainingConfig, got {config_cls!r}")
    if getattr(config_cls, "method", None) != name:
        raise ConfigError(f"training method {name!r}: {config_cls.__name__}.method must be {name!r} "
                          f"(it is recorded in provenance), got {getattr(config_cls, 'method', None)!r}")
    if not isinstance(getattr(config_cls, "base_learning_rate", None), float):
        raise ConfigError(f"training method {name!r}: {config_cls.__name__} needs a float base_learning_rate")
    missing_help = [f.name for f in fields(config_cls) if not f.metadata.get("help")]
    if missing_help:
        raise ConfigError(f"training method {name!r}: field(s) {', '.join(missing_help)} of {config_cls.__name__} "
                          "need help text (metadata={'help': ...}); it becomes the flag's help")
    if data_format not in FORMATS:
        raise ConfigError(f"training method {name!r}: data_format must be one of {', '.join(FORMATS)}, got {data_format!r}")
    if not callable(train):
        raise ConfigError(f"training method {name!r}: train must be callable")
    if not isinstance(help, str) or not help.strip():
        raise ConfigError(f"training method {name!r}: help must say what it trains on, in one line")
    return _METHODS.add(name, TrainingMethod(name=name, config_cls=config_cls, data_format=data_format, train=train,
                                             help=help))


def training_methods() -> dict[str, TrainingMethod]:
    """Every registered method by name, built-ins first."""
    return _METHODS.load()


def get_method(name: str) -> TrainingMethod:
    """The method called name; ConfigError listing the known ones otherwise."""
    return _METHODS.get(name)


__all__ = ["ENTRY_POINT_GROUP", "TrainJob", "TrainingMethod", "get_method", "register_method", "training_methods"]
