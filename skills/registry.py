"""Skill discovery: user folder, configured folders, pip-installed entry points, bundled skills.

Every candidate folder goes through one validating `register_skill`; a broken or hostile
folder lands in `Discovery.rejected` with its reason and every other skill still loads.
Loading weights is the backends' job; this module only reads manifests and file headers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from skillstack.errors import SkillError
from skillstack.models import base_model_id
from skillstack.settings import Settings
from .manifest import MANIFEST_FILES, SkillManifest, load_manifest
from .security import check_folder_inside, check_skill_folder

ENTRY_POINT_GROUP = "skillstack.skills"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(kw_only=True)
class Skill:
    name: str
    path: Path
    manifest: SkillManifest
    source: str = "folder"
    # Folders of the same name this one shadows (a later source: configured, plugin or bundled), so a
    # dropped-in folder that takes over a trusted name is visible in `skills list` and `skills show`.
    overrides: list[dict[str, str]] = field(default_factory=list)

    @cached_property
    def schema(self) -> dict[str, Any] | None:
        """The JSON Schema of a json skill (checked at registration), else None."""
        from .structured import load_schema

        return load_schema(self.path / self.manifest.schema) if self.manifest.schema else None

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {"name": self.name, "kind": m.kind, "backend": m.backend, "path": str(self.path), "source": self.source,
                "description": m.description, "output": m.output, "base_model": m.base_model, "model": m.model,
                "routing_examples": m.routing_examples, "labels": m.labels, "promoted": m.provenance.get("promoted"),
                "overrides": list(self.overrides)}


@dataclass(kw_only=True)
class Rejected:
    path: str
    reason: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "name": self.name}


@dataclass(kw_only=True)
class Discovery:
    skills: dict[str, Skill] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"skills": [s.to_dict() for s in self.skills.values()], "rejected": [r.to_dict() for r in self.rejected]}


def inspect_skill(folder: Path, *, base_model: str, root: Path | None = None, source: str = "folder") -> Skill:
    """Check one skill folder fully (manifest, files, schema, base model); SkillError with the reason if unusable."""
    if root is not None:
        check_folder_inside(folder, root)
    if not folder.is_dir():
        raise SkillError(f"{folder}: not a folder")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = load_manifest(folder)
    for warning in caught:  # re-emit: unknown keys warn, and the caller decides how loud
        warnings.warn(str(warning.message), stacklevel=2)
    if manifest.backend == "peft" and manifest.base_model != base_model:
        raise SkillError(f"{folder}: adapter trained for base model '{manifest.base_model}', but this runtime's base "
                         f"model is '{base_model}'; retrain the skill or set base_model")
    check_skill_folder(folder, manifest, base_model=base_model)
    skill = Skill(name=manifest.name, path=folder, manifest=manifest, source=source)
    if manifest.schema:
        skill.schema  # noqa: B018 - load now so a bad schema rejects the folder, not a later request
    return skill


def register_skill(discovery: Discovery, folder: Path, *, base_model: str, root: Path | None = None,
                   source: str = "folder") -> Skill | None:
    """Add folder's skill to discovery, or record why not (broken, hostile, duplicate); never raises SkillError."""
    try:
        skill = inspect_skill(folder, base_model=base_model, root=root, source=source)
    except SkillError as exc:
        name = None
        try:
            name = load_manifest(folder).name
        except SkillError:
            pass
        discovery.rejected.append(Rejected(path=str(folder), reason=str(exc), name=name))
        return None
    if skill.name in discovery.skills:
        first = discovery.skills[skill.name]
        first.overrides.append({"source": skill.source, "path": str(folder)})
        discovery.rejected.append(Rejected(path=str(folder), name=skill.name,
                                           reason=f"duplicate skill name '{skill.name}', overridden by the "
                                                  f"{first.source} folder {first.path}"))
        return None
    discovery.skills[skill.name] = skill
    return skill


def _is_skill_folder(path: Path) -> bool:
    return any((path / name).exists() for name in MANIFEST_FILES)


def _scan_dir(discovery: Discovery, root: Path, *, base_model: str, source: str) -> None:
    """Register every skill folder directly under root (hidden folders, e.g. half-written ones, are skipped)."""
    if not root.is_dir():
        return
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or child.name == "__pycache__" or not child.is_dir():
            continue
        register_skill(discovery, child, base_model=base_model, root=root, source=source)


def _entry_point_paths(value: Any) -> Iterable[Path]:
    if callable(value):
        value = value()
    if isinstance(value, (str, Path)):
        return [Path(value)]
    return [Path(item) for item in value]


def _scan_entry_points(discovery: Discovery, *, base_model: str) -> None:
    for point in entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {point.name} ({point.value})"
        try:
            paths = list(_entry_point_paths(point.load()))
        except Exception as exc:  # a broken plugin package must not break discovery
            discovery.rejected.append(Rejected(path=source, reason=f"entry point failed to load: {exc}"))
            continue
        for path in paths:
            if _is_skill_folder(path):
                register_skill(discovery, path, base_model=base_model, root=path, source=source)
            else:
                _scan_dir(discovery, path, base_model=base_model, source=source)


def discover_skills(settings: Settings) -> Discovery:
    """Every skill visible to settings; earlier sources win on duplicate names (user > configured > plugins > bundled)."""
    discovery = Discovery()
    base = base_model_id(settings)
    _scan_dir(discovery, settings.user_skills_dir, base_model=base, source="user")
    for folder in settings.skills_dirs:
        _scan_dir(discovery, folder, base_model=base, source="configured")
    _scan_entry_points(discovery, base_model=base)
    _scan_dir(discovery, BUNDLED_DIR, base_model=base, source="bundled")
    return discovery
