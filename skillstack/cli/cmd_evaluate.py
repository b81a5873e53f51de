"""`skillstack eval SKILL --data FILE --grader FILE...`: the skill against baselines with graders (one metric each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import JSON_OPTION, emit, settings_from

# A top-level command (no group name): `skillstack eval`.
app = typer.Typer()


def parse_baseline(value: str, *, constrained: bool) -> Any:
    """A `LABEL=SYSTEM_PROMPT_FILE` option value as a Baseline (the file's text is the system prompt)."""
    from skillstack.errors import InputError
    from skillstack.training.evaluate import Baseline

    option = "--constrained-baseline" if constrained else "--baseline"
    label, sep, file = value.partition("=")
    if not sep or not label.strip() or not file:
        raise InputError(f"{option} takes LABEL=SYSTEM_PROMPT_FILE, got {value!r}")
    try:
        prompt = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{option} {label.strip()}: cannot read the system prompt file {file} ({exc})") from exc
    return Baseline(label=label.strip(), system_prompt=prompt.strip(), constrained=constrained)


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    skill: str = typer.Argument(..., help="Skill name (see `skillstack skills list`)."),
    data: Path = typer.Option(..., "--data", help="Held-out JSONL (chat: the last assistant message is the reference)."),
    grader: Optional[list[Path]] = typer.Option(None, "--grader", help="Grader spec JSON (OpenAI grader format, or json_schema); repeat for several metrics (optional for classify skills: accuracy and macro-F1 are built in)."),
    unseen: Optional[Path] = typer.Option(None, "--unseen", help="A second held-out file never trained or tuned on: the same conditions, side by side; promotion needs both."),
    against: str = typer.Option("base", "--against", help="Comma-separated built-in baselines: base (always, unless 'none'), rag."),
    baseline: Optional[list[str]] = typer.Option(None, "--baseline", help="LABEL=SYSTEM_PROMPT_FILE: the base model told that file's text (repeatable)."),
    constrained: Optional[list[str]] = typer.Option(None, "--constrained-baseline", help="LABEL=SYSTEM_PROMPT_FILE, decoding under the skill's JSON Schema or labels (repeatable)."),
    primary: Optional[str] = typer.Option(None, "--primary", help="The grader name promotion is decided on; default the first grader."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N examples."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Answer length; default the skill's max_tokens."),
    no_write: bool = typer.Option(False, "--no-write", help="Do not write the eval card or touch the skill folder."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Grade the skill and its baselines; write eval_card.json + EVAL.md; promote the skill only if it beats every base baseline."""
    from skillstack.training.evaluate import built_in_baseline, evaluate_skill
    from skillstack.training.graders import load_grader_spec

    names = [s.strip() for s in against.split(",") if s.strip()]
    names = [n for n in names if n != "none"] if "none" in names else ["base", *(n for n in names if n != "base")]
    baselines = [built_in_baseline(name) for name in names]
    baselines += [parse_baseline(value, constrained=False) for value in baseline or []]
    baselines += [parse_baseline(value, constrained=True) for value in constrained or []]
    evaluation = evaluate_skill(settings_from(ctx), skill, data, [load_grader_spec(path) for path in grader or []],
                                baselines=baselines, primary=primary, limit=limit, max_tokens=max_tokens,
                                progress=not as_json, write=not no_write, unseen=unseen)

    def rows(c: dict[str, Any], key: str) -> list[str]:
        lines = [f"{c['skill']} on {c['items']} examples of {c['data']} (primary metric {key}):"]
        for row in c["conditions"]:
            f1 = f"  macro-F1 {row['metrics']['macro_f1']:.3f}" if "macro_f1" in row["metrics"] else ""
            passed = f"  pass {row['pass_rates'][key]:.0%}" if key in row["pass_rates"] else ""
            lines.append(f"  {row['label']:<6} mean {row['metrics'][key]:.3f}{passed}{f1}")
        return lines

    def human(c: dict[str, Any]) -> str:
        lines = rows(c, c["primary_metric"]) + (rows(c["unseen"], c["primary_metric"]) if c.get("unseen") else [])
        lines.append("promoted: beats every base-model baseline" if c["promoted"] else
                     "not promoted: does not beat every base-model baseline")
        return "\n".join(lines)

    emit(evaluation.card.to_dict(), as_json, human)
