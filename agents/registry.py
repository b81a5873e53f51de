"""The one way entries join the deciding parts' registries (routers by name, reasoning flows by skill kind).

Each registry is a plain dict filled through `add_entry`, which checks the name's form, that the entry's
build is callable, and that the name is free; built-ins and plugins go through it alike.
Not here: what any registry holds (agents/router.py, agents/flows.py).
"""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeVar

from skillstack.errors import ConfigError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")


class Entry(Protocol):
    @property
    def build(self) -> Any: ...


E = TypeVar("E", bound=Entry)


def add_entry(registry: dict[str, E], name: str, entry: E, *, what: str) -> E:
    """Put `entry` under `name` in `registry`; `what` names the registry in errors ("router", "reasoning flow kind").

    Registering the same build again under its name is a no-op, so a module imported twice does no harm.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(f"{what} {name!r} must match {NAME_PATTERN.pattern}")
    if not callable(entry.build):
        raise ConfigError(f"{what} {name!r}: build must be callable, got {entry.build!r}")
    registered = registry.get(name)
    if registered is not None and registered.build is not entry.build:
        raise ConfigError(f"{what} {name!r} is already registered; register this one under another name")
    registry[name] = entry
    return entry
