"""The grader interface, the registry of grader types, and build_grader (OpenAI grader JSON -> Grader).

Grader types register through register_grader, built-ins exactly like plugins. The types themselves
live one per module beside this one.
"""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillstack.coerce import coerce
from skillstack.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from skillstack.settings import Settings

_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(kw_only=True)
class BuildContext:
    """What grader factories may need: settings (models, judges) and an explicit judge chat model."""

    settings: Settings | None = None
    judge: BaseChatModel | None = None
    # Built lazily and shared by the graders of one build (a multi grader's children).
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Grader(ABC):
    """Scores one sample against one dataset item, in [0, 1]."""

    name: str
    pass_threshold: float | None = None

    @abstractmethod
    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        """sample = {"output_text": str, "output_json": object or None}; item = the dataset row."""

    def passed(self, score: float) -> bool:
        return score >= (self.pass_threshold if self.pass_threshold is not None else 1.0)


Factory = Callable[[dict[str, Any], BuildContext], Grader]
_REGISTRY: dict[str, Factory] = {}


def register_grader(type_name: str, factory: Factory) -> None:
    """Make a grader type available to build_grader (the one way in, for built-ins and plugins)."""
    if not isinstance(type_name, str) or not _TYPE_NAME.match(type_name):
        raise ConfigError(f"grader type {type_name!r} must match {_TYPE_NAME.pattern}")
    if not callable(factory):
        raise ConfigError(f"grader type {type_name!r}: factory must be callable")
    if type_name in _REGISTRY and _REGISTRY[type_name] is not factory:
        raise ConfigError(f"grader type {type_name!r} is already registered")
    _REGISTRY[type_name] = factory


ENTRY_POINT_GROUP = "skillstack.graders"
_plugins_loaded = False


def load_plugins() -> None:
    """Register grader types from installed packages (entry point name -> factory), once per process.

    A plugin that fails to load is skipped with a warning: it must not take the built-in graders down.
    """
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register_grader(point.name, point.load())
        except Exception as exc:  # noqa: BLE001 - any plugin failure, reported and skipped
            warnings.warn(f"grader plugin {point.name!r} ({point.value}) not loaded: {exc}", stacklevel=2)


def grader_types() -> list[str]:
    load_plugins()
    return sorted(_REGISTRY)


def build_grader(spec: dict[str, Any], *, settings: Settings | None = None, judge: BaseChatModel | None = None,
                 context: BuildContext | None = None) -> Grader:
    """A Grader from OpenAI grader JSON (plus "json_schema"); ConfigError naming the field when the spec is wrong."""
    if not isinstance(spec, dict):
        raise ConfigError(f"a grader spec must be a JSON object, got {type(spec).__name__}")
    kind = spec.get("type")
    load_plugins()
    if kind not in _REGISTRY:
        raise ConfigError(f"grader 'type' must be one of {', '.join(grader_types())}, got {kind!r}")
    return _REGISTRY[kind](spec, context or BuildContext(settings=settings, judge=judge))


def field_of(spec: dict[str, Any], key: str, hint: Any, *, default: Any = ..., choices: Any = None) -> Any:
    """One spec field as type `hint` (str, float, list, dict ...); errors name the grader and the field."""
    label = f"grader {spec.get('name') or spec.get('type')!r}"
    if key not in spec:
        if default is ...:
            raise ConfigError(f"{label}: missing field '{key}'")
        return default
    value = coerce(spec[key], hint, name=key, origin=label, label="field")
    if choices is not None and value not in choices:
        raise ConfigError(f"{label}: field '{key}' must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def common_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """name and pass_threshold, shared by every grader type."""
    return {"name": field_of(spec, "name", str, default=spec.get("type", "grader")),
            "pass_threshold": field_of(spec, "pass_threshold", float, default=None)}


def load_grader_spec(path: Path) -> dict[str, Any]:
    """A grader spec from a JSON file (OpenAI's grader JSON, as given to `skillstack eval --grader`)."""
    from skillstack.training.data.jsonl import read_json_object

    return read_json_object(path, "grader spec")
