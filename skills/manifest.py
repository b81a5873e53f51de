"""The skill manifest: skill.toml / skill.json <-> SkillManifest, schema-checked field by field.

Holds the on-disk format only (versioned; unknown keys warn). Which files a folder may
contain is security.py's business; where folders are found is registry.py's.
"""

from __future__ import annotations

import json
import re
import tomllib
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from skillstack.coerce import coerce_field, shown_value
from skillstack.errors import SkillError
from skillstack.io import atomic_write_text
from skillstack.skills.backends.registry import backend_types

SKILL_FORMAT_VERSION = 1
MANIFEST_FILES = ("skill.toml", "skill.json")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
KINDS = ("tone", "format", "reasoning", "classify", "other")
OUTPUTS = ("text", "json")
# A classify skill's label set: small enough to list in a prompt and to build one decoding constraint over.
MIN_LABELS, MAX_LABELS, MAX_LABEL_CHARS = 2, 100, 64
# "base" names the bare base model in every API, so no skill may take it.
RESERVED_NAMES = frozenset({"base"})
# Bounds on every string and list (a dropped-in folder is untrusted input, printed by `skills list`):
# generous for real skills, small enough that no field can flood a listing, a prompt or a router.
MAX_NAME = 64
MAX_TEXT = 4_000           # description, each routing example
MAX_PROMPT = 32_000        # system prompt
MAX_REFERENCE = 2_000      # base model id, model id, base_url, schema file name
MAX_EXAMPLES = 200         # routing examples
MAX_STOPS, MAX_STOP = 16, 200
MAX_PROVENANCE = 1_000_000  # provenance table, as JSON characters


@dataclass(kw_only=True)
class GenerationDefaults:
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature; 0 means greedy decoding.", "minimum": 0})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass (used when temperature > 0).", "minimum": 0})
    max_tokens: int = field(default=256, metadata={"help": "Most new tokens generated per answer.", "minimum": 1})
    stop: list[str] = field(default_factory=list, metadata={"help": "Strings that end the answer (not included).",
                                                            "max_length": MAX_STOPS, "max_item_length": MAX_STOP})


@dataclass(kw_only=True)
class SkillManifest:
    version: int = field(default=SKILL_FORMAT_VERSION, metadata={"help": "Manifest format version.", "minimum": 1})
    name: str = field(metadata={"help": "Skill name, ^[a-z0-9][a-z0-9._:-]*$; the folder's name by convention.",
                                "max_length": MAX_NAME})
    description: str = field(default="", metadata={"help": "What the skill does, one or two sentences (shown to routers).",
                                                   "max_length": MAX_TEXT})
    kind: str = field(default="other", metadata={"help": "tone | format | reasoning | classify | other."})
    backend: str = field(default="peft", metadata={"help": "peft (local LoRA adapter) | openai (ft: model) | openai-compatible (base_url + model)."})
    base_model: str = field(default="", metadata={"help": "Identity of the base model the adapter was trained on.",
                                                  "max_length": MAX_REFERENCE})
    routing_examples: list[str] = field(default_factory=list, metadata={
        "help": "Sample tasks the router may learn from.", "max_length": MAX_EXAMPLES, "max_item_length": MAX_TEXT})
    system_prompt: str = field(default="", metadata={"help": "System prompt the skill was trained with.",
                                                     "max_length": MAX_PROMPT})
    generation: GenerationDefaults = field(default_factory=GenerationDefaults, metadata={"help": "Generation defaults."})
    output: str = field(default="text", metadata={"help": "text | json."})
    schema: str | None = field(default=None, metadata={"help": "JSON Schema file inside the folder (json skills).",
                                                       "max_length": MAX_REFERENCE})
    labels: list[str] = field(default_factory=list, metadata={"help": "classify skills: the labels an answer must be "
                                                                      "exactly one of (decoding is constrained to them); bounded by check_labels."})
    model: str | None = field(default=None, metadata={"help": "ft: model id (openai) or served model name (openai-compatible).",
                                                      "max_length": MAX_REFERENCE})
    base_url: str | None = field(default=None, metadata={"help": "Server URL for openai-compatible skills.",
                                                         "max_length": MAX_REFERENCE})
    provenance: dict[str, Any] = field(default_factory=dict, metadata={"help": "Dataset hash, training config, metrics, eval scores, promoted."})


def _fail(source: Path, key: str, problem: str) -> SkillError:
    return SkillError(f"{source}: field '{key}' {problem}")


def _field(cls: type, source: Path, key: str, value: Any, *, prefix: str = "") -> Any:
    """One manifest value as its field's declared type (a typed file: no text parsing); errors name the field."""
    return coerce_field(cls, key, value, origin=str(source), label="field", error=SkillError, shown=prefix + key)


def _check_choice(source: Path, key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(source, key, f"must be one of {', '.join(choices)}, got {shown_value(value)}")
    return value


def _parse_generation(source: Path, raw: Any) -> GenerationDefaults:
    if not isinstance(raw, dict):
        raise _fail(source, "generation", "must be a table of temperature, top_p, max_tokens, stop")
    known = {f.name for f in fields(GenerationDefaults)}
    for key in sorted(set(raw) - known):
        warnings.warn(f"{source}: unknown key 'generation.{key}' ignored (newer skillstack?)", stacklevel=3)
    gen = GenerationDefaults(**{key: _field(GenerationDefaults, source, key, value, prefix="generation.")
                                for key, value in raw.items() if key in known})
    if not 0 < gen.top_p <= 1:
        raise _fail(source, "generation.top_p", f"must be in (0, 1], got {gen.top_p}")
    return gen


def check_labels(source: Path, kind: str, labels: list[str]) -> list[str]:
    """A classify skill's labels: 2-100 distinct short one-line strings; other kinds have none."""
    if kind != "classify":
        if labels:
            raise _fail(source, "labels", f"is only for kind \"classify\" (this skill is kind {kind!r})")
        return labels
    if not MIN_LABELS <= len(labels) <= MAX_LABELS:
        raise _fail(source, "labels", f"must list {MIN_LABELS} to {MAX_LABELS} labels for kind \"classify\", "
                                      f"got {len(labels)}")
    for number, label in enumerate(labels, start=1):
        if not label.strip() or label != label.strip() or len(label) > MAX_LABEL_CHARS or not label.isprintable():
            raise _fail(source, f"labels[{number}]", f"must be a non-empty one-line string of at most {MAX_LABEL_CHARS} "
                                                     f"characters without leading/trailing spaces, got {label!r}")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise _fail(source, "labels", f"lists {label!r} twice; labels must be unique")
        seen.add(label)
    return labels


def parse_manifest(data: dict[str, Any], source: Path) -> SkillManifest:
    """Check a decoded manifest field by field; errors name the file and the field."""
    if not isinstance(data, dict):
        raise SkillError(f"{source}: a manifest must be a table/object")
    known = {f.name for f in fields(SkillManifest)}
    for key in sorted(set(data) - known):
        warnings.warn(f"{source}: unknown key {shown_value(key)} ignored (newer skillstack?)", stacklevel=2)
    version = _field(SkillManifest, source, "version", data.get("version"))
    if version > SKILL_FORMAT_VERSION:
        warnings.warn(f"{source}: manifest version {version} is newer than {SKILL_FORMAT_VERSION}; "
                      "reading the fields this version knows", stacklevel=2)
    name = _field(SkillManifest, source, "name", data.get("name"))
    if not NAME_PATTERN.match(name) or name in RESERVED_NAMES:
        raise _fail(source, "name", f"{name!r} is not a valid skill name (^[a-z0-9][a-z0-9._:-]*$, not 'base')")
    typed = {key: _field(SkillManifest, source, key, data[key]) for key in
             ("description", "base_model", "routing_examples", "system_prompt", "schema", "labels", "model", "base_url",
              "provenance")
             if key in data}
    manifest = SkillManifest(
        version=version,
        name=name,
        kind=_check_choice(source, "kind", data.get("kind", "other"), KINDS),
        backend=_check_choice(source, "backend", data.get("backend", "peft"), tuple(backend_types())),
        generation=_parse_generation(source, data.get("generation", {})),
        output=_check_choice(source, "output", data.get("output", "text"), OUTPUTS),
        **typed,
    )
    check_labels(source, manifest.kind, manifest.labels)
    if manifest.kind == "classify" and manifest.output != "text":
        raise _fail(source, "output", "must be \"text\" for kind \"classify\" (the answer is one label)")
    provenance_size = len(json.dumps(manifest.provenance, default=str))
    if provenance_size > MAX_PROVENANCE:
        raise _fail(source, "provenance", f"is {provenance_size} characters as JSON; the limit is {MAX_PROVENANCE}")
    if manifest.output == "json" and not manifest.schema:
        raise _fail(source, "schema", "is required when output = \"json\" (a JSON Schema file in the folder)")
    if manifest.backend == "peft" and not manifest.base_model:
        raise _fail(source, "base_model", "is required for backend \"peft\" (the base the adapter was trained on)")
    if manifest.backend in ("openai", "openai-compatible") and not manifest.model:
        raise _fail(source, "model", f"is required for backend \"{manifest.backend}\"")
    if manifest.backend == "openai-compatible" and not manifest.base_url:
        raise _fail(source, "base_url", "is required for backend \"openai-compatible\"")
    return manifest


def manifest_path(folder: Path) -> Path:
    """The manifest file of a skill folder (skill.toml preferred over skill.json)."""
    for filename in MANIFEST_FILES:
        if (folder / filename).is_file():
            return folder / filename
    raise SkillError(f"{folder}: no skill.toml or skill.json; a skill folder needs a manifest")


def load_manifest(folder: Path) -> SkillManifest:
    """Read and check the manifest of a skill folder."""
    path = manifest_path(folder)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except UnicodeDecodeError as exc:
        raise SkillError(f"{path}: not UTF-8 text") from exc
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SkillError(f"{path}: not valid {path.suffix[1:].upper()} ({exc})") from exc
    return parse_manifest(data, path)


def manifest_to_dict(manifest: SkillManifest) -> dict[str, Any]:
    """Plain data for TOML/JSON; None fields are left out (TOML has no null)."""
    return {key: value for key, value in asdict(manifest).items() if value is not None}


def write_manifest(folder: Path, manifest: SkillManifest) -> Path:
    """Write folder/skill.toml atomically; returns its path."""
    import tomli_w

    parse_manifest(manifest_to_dict(manifest), folder / "skill.toml")  # never write what we could not read back
    return atomic_write_text(folder / "skill.toml", tomli_w.dumps(manifest_to_dict(manifest)))


__all__ = ["SKILL_FORMAT_VERSION", "GenerationDefaults", "SkillManifest", "load_manifest", "write_manifest",
           "parse_manifest", "manifest_to_dict", "manifest_path", "NAME_PATTERN", "MAX_LABELS", "check_labels"]
