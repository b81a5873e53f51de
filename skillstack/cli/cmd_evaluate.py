"""`skillstack eval SKILL --data FILE --grader FILE`: the skill versus the base model (and RAG) with a grader."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import JSON_OPTION, emit, settings_from

# A top-level command (no group name): `skillstack eval`.
app = typer.Typer()


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    skill: str = typer.Argument(..., help="Skill name (see `skillstack skills list`)."),
    data: Path = typer.Option(..., "--data", help="Held-out JSONL (chat: the last assistant message is the reference)."),
    grader: Path = typer.Option(..., "--grader", help="Grader spec JSON (OpenAI grader format, or json_schema)."),
    against: str = typer.Option("base", "--against", help="Comma-separated baselines: base, rag."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N examples."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Answer length; default the skill's max_tokens."),
    no_write: bool = typer.Option(False, "--no-write", help="Do not write the eval card or touch the manifest."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Grade the skill and its baselines; write eval_card.json + EVAL.md; promote the skill only if it beats base."""
    from skillstack.training.evaluate import evaluate_skill
    from skillstack.training.graders import load_grader_spec

    card = evaluate_skill(settings_from(ctx), skill, data, load_grader_spec(grader),
                          against=tuple(s.strip() for s in against.split(",") if s.strip()), limit=limit,
                          max_tokens=max_tokens, progress=not as_json, write=not no_write)

    def human(c: dict[str, Any]) -> str:
        lines = [f"{c['skill']} on {c['examples']} examples ({c['grader'].get('type')} grader):"]
        lines += [f"  {name:<6} mean {value:.3f}  pass {c['pass_rates'][name]:.0%}" for name, value in c["scores"].items()]
        lines.append("promoted: beats the base model" if c["promoted"] else "not promoted: does not beat the base model")
        return "\n".join(lines)

    result = card.to_dict()
    if as_json:
        result.pop("results")
    emit(result, as_json, human)
