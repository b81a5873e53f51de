"""`python -m skillstack.training.demo_skills [--only NAME]` (what `make demo-skills` runs): rebuild the bundled demo skills."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

# PEFT's save_pretrained looks the base model up on the hub unless told not to; skillstack never downloads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    only: Optional[list[str]] = typer.Option(None, "--only", help="Build only this demo skill (repeatable)."),
    dest: Optional[Path] = typer.Option(None, "--dest", help="Where skill folders go; default the package's skills/bundled/."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where generated datasets go; default $SKILLSTACK_HOME/datasets/demo-skills."),
    support_csv: Optional[Path] = typer.Option(None, "--support-csv", help="Bitext customer-support CSV for brand-voice prompts (the Makefile passes ../shared's); without it, built-in prompts."),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="Use only built-in prompts for brand-voice, even if --support-csv is given."),
    evaluate: bool = typer.Option(True, "--eval/--no-eval", help="Write the eval card against the base model."),
    eval_only: bool = typer.Option(False, "--eval-only", help="Only (re)write the eval card of the already-built skill folders."),
    unseen: bool = typer.Option(False, "--unseen", help="Also write each skill's card on its unseen set (bench/unseen/skills) and the data audit."),
    threads: int = typer.Option(0, "--threads", help="torch CPU threads for evaluation (0: torch's default; 1 is fastest on a busy shared machine)."),
    home: Optional[Path] = typer.Option(None, "--home", help="skillstack home; default $SKILLSTACK_HOME or ~/.skillstack."),
) -> None:
    """Generate, validate, train and evaluate the demo skills, writing ready skill folders."""
    import json
    import sys

    from skillstack.errors import SkillstackError
    from skillstack.settings import load_settings
    from . import DEMO_SKILLS
    from skillstack.skills.registry import BUNDLED_DIR
    from .build import build_demo_skill, evaluate_built, evaluate_unseen, write_datasets

    try:
        unknown = sorted(set(only or []) - set(DEMO_SKILLS))
        if unknown:
            raise typer.BadParameter(f"unknown demo skill(s) {', '.join(unknown)}; known: {', '.join(DEMO_SKILLS)}")
        settings = load_settings(home)
        if threads:
            import torch

            torch.set_num_threads(threads)
        corpus = None if no_corpus else support_csv
        for name in only or list(DEMO_SKILLS):
            if eval_only:
                card = evaluate_built(settings, DEMO_SKILLS[name], dest or BUNDLED_DIR).card
                typer.echo(f"{name}: promoted={card.promoted} " + json.dumps({c.label: c.metrics for c in card.conditions}))
            else:
                folder = build_demo_skill(settings, DEMO_SKILLS[name], data_dir=data_dir or settings.home / "datasets" / "demo-skills",
                                          dest_root=dest or BUNDLED_DIR, corpus_csv=corpus, evaluate=evaluate)
                typer.echo(f"{name}: {folder}")
            if unseen:  # the data section too: the dataset regenerated as trained (deterministic), audited
                from .build import data_report, write_data_report
                from .unseen import write_unseen_items

                train_path, heldout_path, _ = write_datasets(DEMO_SKILLS[name], data_dir or settings.home / "datasets" / "demo-skills",
                                                             corpus_csv=corpus if DEMO_SKILLS[name].uses_corpus else None)
                unseen_path = write_unseen_items(name, settings.home / "datasets" / "unseen" / f"{name}.unseen.jsonl")
                write_data_report((dest or BUNDLED_DIR) / name, data_report(settings, train_path, heldout_path, unseen_path))
                unseen_eval = evaluate_unseen(settings, DEMO_SKILLS[name], dest or BUNDLED_DIR,
                                              scratch=settings.home / "datasets" / "unseen")
                if unseen_eval is not None:
                    typer.echo(f"{name} unseen: " + json.dumps({c.label: c.metrics for c in unseen_eval.card.conditions}))
    except SkillstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from exc


if __name__ == "__main__":
    app()
