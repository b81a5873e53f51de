"""What a skill folder may contain: safetensors weights only, every file inside the folder.

Checks run before anything is loaded and never unpickle, import or execute folder content
(trust_remote_code is never enabled anywhere in skillstack). Manifest fields are checked
by manifest.py; this module checks files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from skillstack.coerce import shown_value
from skillstack.errors import SkillError
from .manifest import SkillManifest

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# Formats that torch/pickle would execute code from when loaded.
PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".dill"})
MAX_SAFETENSORS_HEADER = 100_000_000


def resolve_inside(folder: Path, relative: str, what: str) -> Path:
    """folder/relative, refusing absolute paths, '..' and symlinks that leave the folder."""
    if not relative or Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise SkillError(f"{folder}: {what} {relative!r} must be a plain file name inside the skill folder")
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise SkillError(f"{folder}: {what} {relative!r} resolves to {path}, outside the skill folder")
    return path


def check_folder_inside(folder: Path, root: Path) -> None:
    """A skill folder found under root (maybe through a symlink) must really live under root."""
    real = folder.resolve()
    if not real.is_relative_to(root.resolve()):
        raise SkillError(f"{folder}: resolves to {real}, outside the skills directory {root}; symlinked skills "
                         "must stay inside it")


def check_files(folder: Path) -> None:
    """Every file in folder resolves inside it, and none is a pickle-format weight file."""
    real_folder = folder.resolve()
    for current, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(current) / name
            if path.is_symlink() and not path.resolve().is_relative_to(real_folder):
                raise SkillError(f"{path}: symlink to {path.resolve()} leaves the skill folder; copy the file in instead")
            if path.suffix.lower() in PICKLE_SUFFIXES:
                raise SkillError(f"{path}: pickle-format weights are refused (they can run code when loaded); "
                                 "save the adapter with safetensors (PEFT's save_pretrained default)")


def check_safetensors(path: Path) -> None:
    """Read only the JSON header of a safetensors file: it must parse and describe tensors that fit the file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header_len = int.from_bytes(handle.read(8), "little")
            if size < 8 or header_len <= 0 or header_len > min(size - 8, MAX_SAFETENSORS_HEADER):
                raise SkillError(f"{path}: not a safetensors file (bad header length)")
            header = json.loads(handle.read(header_len))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SkillError(f"{path}: not a readable safetensors file ({exc})") from exc
    if not isinstance(header, dict):
        raise SkillError(f"{path}: safetensors header is not an object")
    data_len = size - 8 - header_len
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1] <= data_len):
            raise SkillError(f"{path}: tensor {key!r} lies outside the file (truncated or corrupt)")


def check_adapter_config(path: Path, *, base_model: str | None = None) -> None:
    """PEFT's adapter config: a LoRA config object, and (when base_model is given) trained on that base.

    The manifest's base_model is only the folder's claim; adapter_config.json is what PEFT wrote at
    training time, so a folder whose two disagree with the runtime is refused here, naming both models.
    """
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SkillError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(config, dict):
        raise SkillError(f"{path}: must be a JSON object (PEFT's adapter config)")
    if config.get("peft_type", "LORA") != "LORA":
        raise SkillError(f"{path}: peft_type {config.get('peft_type')!r} is not supported; skills are LoRA adapters")
    trained_on = config.get("base_model_name_or_path")
    if base_model and trained_on and str(trained_on).rstrip("/") != base_model.rstrip("/"):
        raise SkillError(f"{path}: adapter trained for base model {shown_value(trained_on)} (base_model_name_or_path), "
                         f"but this runtime's base model is '{base_model}'; retrain the skill or set base_model")


def check_skill_folder(folder: Path, manifest: SkillManifest, *, base_model: str | None = None) -> None:
    """All file-level checks for one skill folder (base_model: the runtime's); SkillError names the offending file."""
    check_files(folder)
    if manifest.schema:
        resolve_inside(folder, manifest.schema, "schema file")
        if not (folder / manifest.schema).is_file():
            raise SkillError(f"{folder}: schema file {manifest.schema!r} is missing")
    if manifest.backend != "peft":
        return
    for required in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        path = resolve_inside(folder, required, "adapter file")
        if not path.is_file():
            raise SkillError(f"{folder}: {required} is missing; a peft skill holds PEFT's save_pretrained output")
    check_adapter_config(folder / ADAPTER_CONFIG, base_model=base_model)
    check_safetensors(folder / ADAPTER_WEIGHTS)
