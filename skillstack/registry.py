"""Registry: the named table behind each `register_*` function, filled by built-in modules and plugins alike.

Holds the name check, the refusal of a second entry under a taken name, and the one-time loading of
the built-in modules and of the entry points of a group (a module that calls the register function;
a broken plugin warns, never takes the built-ins down). What an entry is, and how it is validated,
is the registering module's business (training/methods.py, skills/backends/registry.py).
"""

from __future__ import annotations

import importlib
import re
import warnings
from typing import Generic, TypeVar

from skillstack.errors import SkillstackError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind by name, in registration order (built-ins first)."""

    def __init__(self, what: str, *, name_pattern: str, error: type[SkillstackError], builtin_modules: tuple[str, ...],
                 entry_point_group: str) -> None:
        self.what, self.error = what, error
        self.name_pattern = re.compile(name_pattern)
        self.builtin_modules, self.entry_point_group = builtin_modules, entry_point_group
        self.entries: dict[str, T] = {}
        self._loaded = False

    def check_name(self, name: object) -> str:
        """The name, if it is one this registry takes; `error` naming the pattern otherwise."""
        if not isinstance(name, str) or not self.name_pattern.match(name):
            raise self.error(f"{self.what} name {name!r} must match {self.name_pattern.pattern}")
        return name

    def add(self, name: str, entry: T) -> T:
        """Record entry under name; registering the same entry again is a no-op, another one is refused."""
        if name in self.entries and self.entries[name] != entry:
            raise self.error(f"{self.what} {name!r} is already registered")
        self.entries[name] = entry
        return entry

    def load(self) -> dict[str, T]:
        """Every entry, once the built-in modules and then the plugins have been imported (once per process)."""
        if not self._loaded:
            self._loaded = True
            for module in self.builtin_modules:
                importlib.import_module(module)
            from importlib.metadata import entry_points

            for point in entry_points(group=self.entry_point_group):
                try:
                    point.load()
                except Exception as exc:  # noqa: BLE001 - any plugin failure, reported and skipped
                    warnings.warn(f"{self.what} plugin {point.name!r} ({point.value}) not loaded: {exc}", stacklevel=2)
        return dict(self.entries)

    def get(self, name: str) -> T:
        """The entry called name; `error` listing the known ones otherwise."""
        entries = self.load()
        if name not in entries:
            raise self.error(f"unknown {self.what} {name!r}; known: {', '.join(entries)}")
        return entries[name]


__all__ = ["Registry"]
