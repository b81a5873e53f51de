"""Build a demo skill end to end: generate its dataset, validate it, train it with train_sft, ship it.

`build_demo_skill` is what `make demo-skills` (python -m skillstack.training.demo_skills) runs per
skill: the seeded generator writes train.jsonl and heldout.jsonl, the project's validator checks
them, the project's LoRA SFT trains the adapter (dataset hash and training config land in the
manifest), `skillstack eval`'s engine compares the skill with its baselines on the held-out set, and
the folder ships in one write. Not here: the generators (one module per skill).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError
from skillstack.settings import Settings
from skillstack.skills.registry import BUNDLED_DIR
from skillstack.training.eval_card import Evaluation
from . import DemoSkill

HELDOUT = "heldout.jsonl"
DATA_LICENSE = "DATA-LICENSE.txt"
REBUILD_COMMAND = "make demo-skills ONLY={name}"
STAGING = "staging"  # <data_dir>/<name>/staging/<name>: the trained folder before it is evaluated and shipped


def write_datasets(skill: DemoSkill, data_dir: Path, *, corpus_csv: Path | None) -> tuple[Path, Path, dict[str, Any]]:
    """Generate and write <data_dir>/<name>/{train,heldout}.jsonl (plus schema.json for json skills).

    Returns (train path, heldout path, generator provenance).
    """
    from skillstack.io import atomic_write_json
    from skillstack.training.data.jsonl import write_jsonl

    train, heldout, provenance = skill.generate_data(corpus_csv)
    folder = data_dir / skill.name
    train_path, heldout_path = folder / "train.jsonl", folder / HELDOUT
    write_jsonl(train_path, train)
    write_jsonl(heldout_path, heldout)
    if skill.schema is not None:
        atomic_write_json(folder / "schema.json", skill.schema)
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


def data_license(corpus_csv: Path, generator: dict[str, Any]) -> dict[str, Path]:
    """The corpus's LICENSE.txt, to ship beside the held-out set that quotes it ({name in the folder: file}); noted in the provenance."""
    source = corpus_csv.parent / "LICENSE.txt"
    if not source.exists():
        return {}
    generator["data_license"] = f"{DATA_LICENSE}: Community Data License Agreement - Sharing 1.0; attribution: Bitext"
    return {DATA_LICENSE: source}


def build_demo_skill(settings: Settings, skill: DemoSkill, *, data_dir: Path, dest_root: Path = BUNDLED_DIR,
                     corpus_csv: Path | None = None, evaluate: bool = True, progress: bool = True) -> Path:
    """Generate, validate, train (train_sft), evaluate and ship the skill folder; returns it.

    train_sft writes the trained folder into a staging root under data_dir, where `skillstack eval`'s
    engine scores it; the shipped folder is then published once: adapter, held-out set, licence,
    eval card, and the manifest with training, dataset-generator and eval provenance together.
    """
    from skillstack.skills.manifest import load_manifest
    from skillstack.training.config import config_from_mapping
    from skillstack.training.methods import TrainJob
    from skillstack.training.sft import SFTConfig, train_sft
    from skillstack.training.skill_writer import SkillSpec, publish_skill

    corpus = corpus_csv if skill.uses_corpus and corpus_csv is not None and corpus_csv.exists() else None
    train_path, heldout_path, generator = write_datasets(skill, data_dir, corpus_csv=corpus)
    generator["validation"] = validate_datasets(settings, train_path, heldout_path)
    schema_file = train_path.parent / "schema.json" if skill.schema is not None else None
    config = config_from_mapping(SFTConfig, skill.training, origin=f"demo skill {skill.name}")
    staging = data_dir / skill.name / STAGING
    spec = SkillSpec(suffix=skill.name, kind=skill.kind, description=skill.description, system_prompt=skill.system_prompt,
                     routing_examples=list(skill.routing_examples), output=skill.output, schema_file=schema_file,
                     labels=list(skill.labels))
    staged = train_sft(settings, TrainJob(train_file=train_path, output_dir=staging / skill.name, config=config,
                                          skill=spec, progress=progress))
    shutil.copyfile(heldout_path, staged / HELDOUT)  # staged, so the card names the shipped set as it ships
    # the held-out set quotes the corpus: its licence (CDLA-Sharing-1.0) travels with it
    files = data_license(corpus, generator) if corpus is not None else {}
    manifest = load_manifest(staged)
    manifest.provenance["dataset_generator"] = generator
    evaluation = evaluate_built(settings, skill, staging, write=False, progress=progress) if evaluate else None
    folder = publish_skill(dest_root / skill.name, manifest, keep_from=staged, files=files, evaluation=evaluation)
    shutil.rmtree(staging, ignore_errors=True)
    return folder


def evaluate_built(settings: Settings, skill: DemoSkill, skills_root: Path = BUNDLED_DIR, *, write: bool = True,
                   progress: bool = True) -> Evaluation:
    """`skillstack eval` of skills_root/<name> on its shipped held-out set (and its unseen set, where the spec has
    one), with the spec's graders and baselines."""
    from skillstack.settings import with_overrides
    from skillstack.skills.manifest import load_manifest
    from skillstack.skills.runtime import get_runtime
    from skillstack.training.data.jsonl import write_jsonl
    from skillstack.training.evaluate import evaluate_skill
    from skillstack.training.skill_writer import publish_skill

    if skills_root.resolve() != BUNDLED_DIR:  # the runtime must find the folder; bundled skills are always found
        settings = with_overrides(settings, skills_dirs=(skills_root, *settings.skills_dirs))
    unseen_items = skill.unseen() if skill.unseen is not None else None
    unseen = None
    if unseen_items:  # outside the skill folder: an unseen set is measured on, never shipped or trained on
        unseen = settings.home / "datasets" / "demo-skills" / skill.name / "unseen.jsonl"
        write_jsonl(unseen, unseen_items)
    evaluation = evaluate_skill(settings, skill.name, skills_root / skill.name / HELDOUT, skill.graders(),
                                baselines=skill.baselines, primary=skill.primary, max_tokens=skill.max_tokens,
                                progress=progress, write=False, unseen=unseen)
    if evaluation.card.unseen is not None:
        evaluation.card.unseen.data = skill.unseen_source or evaluation.card.unseen.data
    if write:
        folder = get_runtime(settings).skill(skill.name).path
        publish_skill(folder, load_manifest(folder), keep_from=folder, evaluation=evaluation)
    return evaluation


DATA_HEADING = "## Data: stats and leakage audit"


def data_report(settings: Settings, train_path: Path, heldout_path: Path, unseen_path: Path | None) -> str:
    """TRAINING.md's data section: `skillstack data stats` of the training set and `data audit` against the
    held-out set and the unseen set (exact, near-duplicate and 8-gram overlap of prompts and answers)."""
    from skillstack.models import load_tokenizer
    from skillstack.training.data.audit import audit_files
    from skillstack.training.data.stats import dataset_stats

    stats = dataset_stats(train_path, tokenizer=load_tokenizer(settings))
    tokens = stats.get("tokens", {})
    lines = [DATA_HEADING, "", f"- training examples: {stats['examples']} ({stats['format']}), errors {stats['errors']}, "
             f"warnings {stats['warnings']}" + (f"; tokens per example mean {tokens.get('mean')}, p95 {tokens.get('p95')}, "
                                                 f"max {tokens.get('max')}" if tokens else ""),
             "", "| audit: train vs | rows | prompts exact | prompts near (>=90) | prompt 8-gram share | answers near | leaked share |",
             "|---|---|---|---|---|---|---|"]
    for label, path in (("held-out (tuning)", heldout_path), ("unseen (bench/unseen)", unseen_path)):
        if path is None:
            continue
        audit = audit_files(train_path, path)
        prompts, answers = audit["prompts"], audit["answers"]
        lines.append(f"| {label} | {audit['eval_rows']} | {prompts['exact']} | {prompts['near']} | {prompts['ngram']['share']} | "
                     f"{answers['near']} | {audit['leaked_share']} |")
    return "\n".join(lines) + "\n"


def write_data_report(folder: Path, report: str) -> None:
    """Put the data section at the end of folder/TRAINING.md, replacing an older one."""
    from skillstack.io import atomic_write_text

    path = folder / "TRAINING.md"
    text = path.read_text(encoding="utf-8").split(DATA_HEADING)[0].rstrip("\n")
    atomic_write_text(path, text + "\n\n" + report)


def evaluate_unseen(settings: Settings, skill: DemoSkill, skills_root: Path = BUNDLED_DIR, *, scratch: Path,
                    progress: bool = True) -> Evaluation | None:
    """The card of skills_root/<name> on its unseen set (bench/unseen/skills; measured, never trained on), written
    beside the tuning card as eval_card.unseen.json and EVAL-unseen.md; None when this checkout has no unseen set."""
    import json

    from skillstack.io import atomic_write_text
    from skillstack.settings import with_overrides
    from skillstack.training.eval_card import card_report
    from skillstack.training.evaluate import evaluate_skill
    from .unseen import UNSEEN_CARD_FILE, UNSEEN_REPORT_FILE, write_unseen_items

    data = write_unseen_items(skill.name, scratch / f"{skill.name}.unseen.jsonl")
    if data is None:
        return None
    if skills_root.resolve() != BUNDLED_DIR:
        settings = with_overrides(settings, skills_dirs=(skills_root, *settings.skills_dirs))
    evaluation = evaluate_skill(settings, skill.name, data, skill.graders(), baselines=skill.baselines,
                                primary=skill.primary, max_tokens=skill.max_tokens, progress=progress, write=False)
    folder = skills_root / skill.name
    atomic_write_text(folder / UNSEEN_CARD_FILE, json.dumps(evaluation.card.to_dict(), indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(folder / UNSEEN_REPORT_FILE, "Unseen set: bench/unseen/skills (written apart from the generator; "
                      "measured only, never trained or tuned on).\n\n" + card_report(evaluation.card))
    return evaluation


__all__ = ["HELDOUT", "STAGING", "build_demo_skill", "data_license", "evaluate_built", "evaluate_unseen", "validate_datasets",
           "write_datasets"]
