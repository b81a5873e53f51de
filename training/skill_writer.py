"""Writing a skill folder in one step: manifest, adapter, training report, eval card.

Holds the folder layout and its one writer, publish_skill (assembled in a temporary sibling, swapped
in by skillstack.io's atomic_folder, the manifest written once with provenance and eval together),
plus the provenance helpers (dataset hash, OpenAI-style model id); not training or evaluation itself.

Layout: skill.toml, adapter_config.json, adapter_model.safetensors, TRAINING.md, metrics.jsonl,
loss_curve.png, [schema file], [eval_card.json, EVAL.md, eval_outputs.jsonl], [held-out set].
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skillstack.errors import ConfigError, TrainingError
from skillstack.settings import Settings
from .config import Hyperparameters, TrainingConfig
from .eval_card import EVAL_FILES, Evaluation
from .metrics import plot_loss_curve, summarize

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_id(base_model: str, suffix: str) -> str:
    """OpenAI-style "base:suffix" id, e.g. "smollm2-135m-instruct:brand-voice"."""
    base = re.sub(r"[^a-z0-9._-]+", "-", base_model.rsplit("/", 1)[-1].lower()).strip("-")
    return f"{base}:{suffix}"


def toml_safe(value: Any) -> Any:
    """Provenance as TOML can hold it: no None (TOML has no null), tuples as lists, keys as strings."""
    if isinstance(value, dict):
        return {str(k): toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [toml_safe(v) for v in value if v is not None]
    if isinstance(value, Path):
        return str(value)
    return value


def write_skill(folder: Path, manifest: Any, adapter_dir: Path | None, *, metrics: list[dict[str, Any]],
                report: str, extra_files: dict[str, Path] | None = None) -> Path:
    """Write a complete trained skill folder atomically and return it.

    `manifest` is a SkillManifest; `adapter_dir` holds PEFT's save_pretrained output (None for remote
    backends); `metrics` are the metrics.jsonl rows; `report` is the TRAINING.md text; `extra_files`
    maps names in the folder to files to copy (a JSON Schema, for instance).
    """
    files = dict(extra_files or {})
    if adapter_dir is not None:
        for name in ADAPTER_FILES:
            if not (adapter_dir / name).is_file():
                raise TrainingError(f"{adapter_dir}: {name} is missing; the adapter was not saved completely")
            files[name] = adapter_dir / name

    def training_files(tmp: Path) -> None:
        (tmp / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in metrics), encoding="utf-8")
        if metrics:
            plot_loss_curve(metrics, tmp / "loss_curve.png", title=f"{manifest.name}: loss")
        (tmp / "TRAINING.md").write_text(report, encoding="utf-8")

    return publish_skill(folder, manifest, files=files, write=training_files)


def publish_skill(folder: Path, manifest: Any, *, keep_from: Path | None = None, files: dict[str, Path] | None = None,
                  evaluation: Evaluation | None = None, write: Callable[[Path], None] | None = None) -> Path:
    """Put a skill folder in place as a unit: the manifest is written once, with provenance and eval together.

    The new folder is assembled in a temporary sibling from `keep_from`'s files (an existing skill folder;
    its manifest and eval files are superseded), `files` (name -> file to copy), `write(tmp)` (files made
    in place) and `evaluation` (eval card, EVAL.md, eval_outputs.jsonl; its summary and `promoted` go into
    the provenance), then swapped in with renames: a reader, or a write killed half-way, sees the old
    folder or the new one, never a mix.
    """
    from skillstack.io import atomic_folder
    from skillstack.skills.manifest import MANIFEST_FILES, write_manifest

    folder = folder.expanduser().resolve()
    superseded = {*MANIFEST_FILES, *EVAL_FILES}
    with atomic_folder(folder) as tmp:
        if keep_from is not None:
            for path in sorted(keep_from.iterdir()):
                if path.is_file() and path.name not in superseded:
                    shutil.copy2(path, tmp / path.name)
        for name, source in (files or {}).items():
            shutil.copy2(source, tmp / name)
        if write is not None:
            write(tmp)
        provenance = dict(manifest.provenance)
        if evaluation is not None:
            evaluation.write_into(tmp)
            provenance |= {"eval": evaluation.card.summary(), "promoted": evaluation.card.promoted}
        manifest.provenance = toml_safe(provenance)
        write_manifest(tmp, manifest)
    return folder


def training_report(*, title: str, model: str, base_model: str, dataset: dict[str, Any], hyperparameters: dict[str, Any],
                    summary: dict[str, Any], notes: list[str] | None = None) -> str:
    """TRAINING.md: what was trained on what, with which numbers, and how it went."""
    lines = [f"# {title}", "", f"- model id: `{model}`", f"- base model: `{base_model}`"]
    lines += [f"- {key}: `{value}`" for key, value in dataset.items()]
    lines += ["", "## Hyperparameters", "", "| name | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in hyperparameters.items()]
    lines += ["", "## Results", "", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in summary.items()]
    lines += ["", "![loss curve](loss_curve.png)", "", "Per-step numbers: `metrics.jsonl`."]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


@dataclass(kw_only=True)
class SkillSpec:
    """What the trained skill is called and how the runtime should use it (the manifest's non-training fields)."""

    suffix: str = field(metadata={"help": "Skill name and the suffix of its model id, e.g. 'brand-voice'."})
    kind: str = field(default="other", metadata={"help": "tone | format | reasoning | classify | other."})
    description: str = field(default="", metadata={"help": "What the skill does (shown to routers)."})
    system_prompt: str = field(default="", metadata={"help": "System prompt trained with and sent at inference."})
    routing_examples: list[str] = field(default_factory=list, metadata={"help": "Sample tasks for the router."})
    output: str = field(default="text", metadata={"help": "text | json."})
    schema_file: Path | None = field(default=None, metadata={"help": "JSON Schema file for json skills; copied into the folder."})
    labels: list[str] = field(default_factory=list, metadata={"help": "classify skills: the labels an answer is one of."})

    def check(self) -> None:
        """Refuse a bad name or json-without-schema before any training time is spent."""
        from skillstack.skills.manifest import NAME_PATTERN, check_labels

        if not NAME_PATTERN.match(self.suffix) or self.suffix == "base":
            raise ConfigError(f"suffix {self.suffix!r} is not a valid skill name: use lowercase letters, digits, "
                              "'.', '_', ':' or '-', starting with a letter or digit (and not 'base')")
        if self.output == "json" and (self.schema_file is None or not Path(self.schema_file).is_file()):
            raise ConfigError(f"output 'json' needs an existing schema file, got {self.schema_file}")
        check_labels(Path("[skill]"), self.kind, self.labels)


def finish_skill(settings: Settings, spec: SkillSpec, *, output_dir: Path, adapter_dir: Path, config: TrainingConfig,
                 hyperparameters: Hyperparameters, train_file: Path, validation_file: Path | None, n_examples: int,
                 metrics: list[dict[str, Any]], notes: list[str] | None = None, run: dict[str, Any] | None = None) -> Path:
    """Manifest with provenance, adapter, report and metrics as one skill folder (what every trainer ends with)."""
    from skillstack.models import base_model_id
    from skillstack.skills.manifest import SkillManifest

    base = base_model_id(settings)
    ident = model_id(base, spec.suffix)
    dataset = {"dataset": train_file.name, "dataset_sha256": file_sha256(train_file), "examples": n_examples}
    if validation_file is not None:
        dataset |= {"validation_dataset": validation_file.name, "validation_sha256": file_sha256(validation_file)}
    summary = summarize(metrics)
    provenance = {"model_id": ident, "method": config.method, **dataset, "config": config.to_dict(),
                  "hyperparameters": asdict(hyperparameters), "metrics": summary, "run": run or {},
                  "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    schema = Path(spec.schema_file) if spec.schema_file else None
    manifest = SkillManifest(name=spec.suffix, description=spec.description, kind=spec.kind, backend="peft",
                             base_model=base, routing_examples=list(spec.routing_examples),
                             system_prompt=spec.system_prompt, output=spec.output,
                             schema=schema.name if schema else None, labels=list(spec.labels), provenance=provenance)
    report = training_report(title=f"{ident} ({config.method.upper()})", model=ident, base_model=base, dataset=dataset,
                             hyperparameters=asdict(hyperparameters) | {"lora_r": config.lora_r, "lora_alpha": config.lora_alpha,
                                                                       "target_modules": config.target_modules, "seed": config.seed},
                             summary=summary, notes=notes)
    return write_skill(output_dir, manifest, adapter_dir, metrics=metrics, report=report,
                       extra_files={schema.name: schema} if schema else None)


__all__ = ["ADAPTER_FILES", "SkillSpec", "file_sha256", "finish_skill", "model_id", "publish_skill", "toml_safe",
           "training_report", "write_skill"]
