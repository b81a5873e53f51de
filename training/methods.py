"""The registry of training methods, and TrainJob, the one object every method's train function takes.

Holds `register_method` (one validating function filling one dict, as PEFT's register_peft_method),
the lookup that loads the built-ins (sft.py, dpo.py, rft.py register themselves exactly like a
plugin module would) and entry-point plugins (group "skillstack.training_methods", each naming a
module that calls register_method). `skillstack train` builds one subcommand per method, with flags
from its config's fields. Not here: the training loops, the CLI itself.

A new method (KTO, ORPO) is one module: a TrainingConfig subclass, a train(settings, job) function,
and one register_method call.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from skillstack.errors import ConfigError
from .config import TrainingConfig
from .data.formats import FORMATS

if TYPE_CHECKING:
    from skillstack.settings import Settings
    from .skill_writer import SkillSpec

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
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


_METHODS: dict[str, TrainingMethod] = {}
_loaded = False


def register_method(*, name: str, config_cls: type[TrainingConfig], data_format: str, train: Train,
                    help: str) -> TrainingMethod:
    """Make a training method available to `skillstack train` (the one way in, for built-ins and plugins)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"training method name {name!r} must match {_NAME.pattern}")
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
    method = TrainingMethod(name=name, config_cls=config_cls, data_format=data_format, train=train, help=help)
    if name in _METHODS and _METHODS[name] != method:
        raise ConfigError(f"training method {name!r} is already registered")
    _METHODS[name] = method
    return method


def _load() -> None:
    """Import the built-in method modules, then the plugins (once per process; a broken plugin only warns)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            point.load()
        except Exception as exc:  # noqa: BLE001 - any plugin failure, reported and skipped
            warnings.warn(f"training method plugin {point.name!r} ({point.value}) not loaded: {exc}", stacklevel=2)


def training_methods() -> dict[str, TrainingMethod]:
    """Every registered method by name, built-ins first."""
    _load()
    return dict(_METHODS)


def get_method(name: str) -> TrainingMethod:
    """The method called name; ConfigError listing the known ones otherwise."""
    methods = training_methods()
    if name not in methods:
        raise ConfigError(f"unknown training method {name!r}; known: {', '.join(methods)}")
    return methods[name]


__all__ = ["ENTRY_POINT_GROUP", "TrainJob", "TrainingMethod", "get_method", "register_method", "training_methods"]
