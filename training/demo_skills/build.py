"""Build a demo skill end to end: generate its dataset, validate it, train it with train_sft, ship it.

`build_demo_skill` is what `make demo-skills` (python -m skillstack.training.demo_skills) runs per
skill: the seeded generator writes train.jsonl and heldout.jsonl, the project's validator checks
them, the project's LoRA SFT trains the adapter into the skill folder (dataset hash and training
config land in the manifest), the held-out set is shipped beside the adapter, and the eval card
compares the skill with the base model. Not here: the generators (one module per skill).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError
from skillstack.settings import Settings
from skillstack.skills.registry import BUNDLED_DIR
from . import DemoSkill

HELDOUT = "heldout.jsonl"
DATA_LICENSE = "DATA-LICENSE.txt"
REBUILD_COMMAND = "make demo-skills ONLY={name}"


def write_datasets(skill: DemoSkill, data_dir: Path, *, corpus_csv: Path | None) -> tuple[Path, Path, dict[str, Any]]:
    """Generate and write <data_dir>/<name>/{train,heldout}.jsonl (plus schema.json for json skills).

    Returns (train path, heldout path, generator provenance).
    """
    from skillstack.training.data.jsonl import write_jsonl

    train, heldout, provenance = skill.generate_data(corpus_csv)
    folder = data_dir / skill.name
    train_path, heldout_path = folder / "train.jsonl", folder / HELDOUT
    write_jsonl(train_path, train)
    write_jsonl(heldout_path, heldout)
    if skill.schema is not None:
        (folder / "schema.json").write_text(json.dumps(skill.schema, indent=2) + "\n", encoding="utf-8")
    generator = {"command": REBUILD_COMMAND.format(name=skill.name), "module": f"{__package__}", "seed": skill.seed,
                 "n_train": skill.n_train, "n_heldout": skill.n_heldout, **provenance}
    return train_path, heldout_path, generator


def validate_datasets(settings: Settings, train_path: Path, heldout_path: Path) -> dict[str, Any]:
    """Run the project's validator (token limits with the base tokenizer); DatasetError on any error."""
    from skillstack.models import load_tokenizer
    from skillstack.training.data.validate import validate_file

    reports = {}
    for path in (train_path, heldout_path):
        report = validate_file(path, tokenizer=load_tokenizer(settings))
        if not report.ok:
            first = report.errors[0]
            raise DatasetError(f"{path}:{first.line}: {first.code}: {first.message} "
                               f"({len(report.errors)} error(s); run `skillstack data validate {path}`)")
        reports[path.name] = {"examples": report.examples, "format": report.format, "warnings": len(report.warnings)}
    return reports


def ship_data_license(corpus_csv: Path, folder: Path, generator: dict[str, Any]) -> None:
    """Copy the corpus's LICENSE.txt beside the held-out set that quotes it, and say so in the provenance."""
    source = corpus_csv.parent / "LICENSE.txt"
    if source.exists():
        shutil.copyfile(source, folder / DATA_LICENSE)
        generator["data_license"] = f"{DATA_LICENSE}: Community Data License Agreement - Sharing 1.0; attribution: Bitext"


def build_demo_skill(settings: Settings, skill: DemoSkill, *, data_dir: Path, dest_root: Path = BUNDLED_DIR,
                     corpus_csv: Path | None = None, evaluate: bool = True, progress: bool = True) -> Path:
    """Generate, validate, train (train_sft), ship the held-out set and write the eval card; returns the skill folder."""
    from skillstack.skills.manifest import load_manifest, write_manifest
    from skillstack.training.config import config_from_mapping
    from skillstack.training.methods import TrainJob
    from skillstack.training.sft import SFTConfig, train_sft
    from skillstack.training.skill_writer import SkillSpec, toml_safe

    corpus = corpus_csv if skill.uses_corpus and corpus_csv is not None and corpus_csv.exists() else None
    train_path, heldout_path, generator = write_datasets(skill, data_dir, corpus_csv=corpus)
    generator["validation"] = validate_datasets(settings, train_path, heldout_path)
    schema_file = train_path.parent / "schema.json" if skill.schema is not None else None
    config = config_from_mapping(SFTConfig, skill.training, origin=f"demo skill {skill.name}")
    spec = SkillSpec(suffix=skill.name, kind=skill.kind, description=skill.description, system_prompt=skill.system_prompt,
                     routing_examples=list(skill.routing_examples), output=skill.output, schema_file=schema_file)
    folder = train_sft(settings, TrainJob(train_file=train_path, output_dir=dest_root / skill.name, config=config,
                                          skill=spec, progress=progress))
    shutil.copyfile(heldout_path, folder / HELDOUT)
    if corpus is not None:  # the held-out set quotes the corpus: its licence (CDLA-Sharing-1.0) travels with it
        ship_data_license(corpus, folder, generator)
    manifest = load_manifest(folder)
    manifest.provenance["dataset_generator"] = toml_safe(generator)
    write_manifest(folder, manifest)
    if evaluate:
        evaluate_built(settings, skill, dest_root)
    return folder


def evaluate_built(settings: Settings, skill: DemoSkill, dest_root: Path = BUNDLED_DIR) -> dict[str, Any]:
    """Write the eval card of the skill folder dest_root/<name> (skill versus base model on its held-out set)."""
    from skillstack.settings import with_overrides
    from .evaluation import evaluate_demo_skill

    if dest_root.resolve() != BUNDLED_DIR:  # the runtime must find the folder; bundled skills are always found
        settings = with_overrides(settings, skills_dirs=(dest_root, *settings.skills_dirs))
    return evaluate_demo_skill(settings, skill, dest_root / skill.name)


__all__ = ["HELDOUT", "build_demo_skill", "evaluate_built", "validate_datasets", "write_datasets"]
