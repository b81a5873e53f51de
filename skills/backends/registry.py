"""The registry of skill backends: the names a manifest's `backend` may take, and how each is built.

Holds `register_backend(name=, build=, help=)` (one validating function filling one Registry) and the
lookup that loads the built-ins (batching.py registers "peft", the local engine; openai.py registers
"openai" and "openai-compatible") and entry-point plugins (group "skillstack.backends", each naming
a module that calls register_backend). Not here: the backends themselves, or the manifest's format.

`build(runtime, skill)` returns a Backend (requests.py) for one discovered skill; `runtime` is the
SkillRuntime asking, which owns shared state such as the local engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skillstack.errors import SkillError
from skillstack.registry import Registry

if TYPE_CHECKING:
    from skillstack.skills.registry import Skill
    from skillstack.skills.runtime import SkillRuntime
    from .requests import Backend

BUILTIN_MODULES = ("skillstack.skills.backends.batching", "skillstack.skills.backends.openai")
ENTRY_POINT_GROUP = "skillstack.backends"

Build = Callable[["SkillRuntime", "Skill"], "Backend"]


@dataclass(kw_only=True, frozen=True)
class BackendType:
    """A registered backend: the manifest name, how to build one for a skill, one line of help."""

    name: str
    build: Build
    help: str


_BACKENDS: Registry[BackendType] = Registry("backend", name_pattern=r"^[a-z][a-z0-9-]*$", error=SkillError,
                                            builtin_modules=BUILTIN_MODULES, entry_point_group=ENTRY_POINT_GROUP)


def register_backend(*, name: str, build: Build, help: str) -> BackendType:
    """Make `backend = "<name>"` valid in skill manifests (the one way in, for built-ins and plugins)."""
    _BACKENDS.check_name(name)
    if not callable(build):
        raise SkillError(f"backend {name!r}: build must be callable as build(runtime, skill)")
    if not isinstance(help, str) or not help.strip():
        raise SkillError(f"backend {name!r}: help must say where its tokens come from, in one line")
    return _BACKENDS.add(name, BackendType(name=name, build=build, help=help))


def backend_types() -> dict[str, BackendType]:
    """Every registered backend by name, built-ins first."""
    return _BACKENDS.load()


def build_backend(runtime: SkillRuntime, skill: Skill) -> Backend:
    """The backend the skill's manifest names, built for it; SkillError when none is registered under that name."""
    from .requests import Backend

    backends = backend_types()
    name = skill.manifest.backend
    if name not in backends:
        raise SkillError(f"skill '{skill.name}' needs backend '{name}', which is not installed; "
                         f"known: {', '.join(backends)}")
    backend = backends[name].build(runtime, skill)
    if not isinstance(backend, Backend):
        raise SkillError(f"backend '{name}' built a {type(backend).__name__} for skill '{skill.name}', not a Backend")
    return backend


__all__ = ["ENTRY_POINT_GROUP", "BackendType", "backend_types", "build_backend", "register_backend"]
