"""`skillstack data ...`: validate, stats, split, dedupe, convert and generate training datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import JSON_OPTION, emit, settings_from

app = typer.Typer(name="data", help="Training datasets: validate, measure, split, dedupe, convert, generate.", no_args_is_help=True)

FORMAT_OPTION = typer.Option(None, "--format", help="Force the format (chat, preference, reinforcement) instead of detecting it.")
NO_TOKENS_OPTION = typer.Option(False, "--no-tokens", help="Skip token counting (no tokenizer load; no token-limit check).")


def _tokenizer(ctx: typer.Context, skip: bool) -> Any:
    if skip:
        return None
    from skillstack.errors import ConfigError, SkillstackError
    from skillstack.models import load_tokenizer

    settings = settings_from(ctx)
    try:
        return load_tokenizer(settings)
    except SkillstackError:
        raise
    except Exception as exc:  # noqa: BLE001 - transformers raises OSError/ValueError/... for unusable models
        raise ConfigError(f"cannot load the tokenizer of base model {settings.base_model!r} ({exc}); "
                          "fix base_model or pass --no-tokens") from exc


def _report_text(report: dict[str, Any], path: Path) -> str:
    verdict = "OK" if report["ok"] else "NOT OK"
    lines = [f"{path}: {report['format']}, {report['examples']} example(s): {verdict} "
             f"({len(report['errors'])} error(s), {len(report['warnings'])} warning(s))"]
    lines += [f"  error   line {f['line']}: {f['code']}: {f['message']}" for f in report["errors"]]
    lines += [f"  warning line {f['line']}: {f['code']}: {f['message']}" for f in report["warnings"]]
    return "\n".join(lines)


@app.command("validate")
def validate(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="JSONL dataset (OpenAI chat, DPO or reinforcement format)."),
    validation: Optional[Path] = typer.Option(None, "--validation", help="Validation file: flag examples present in both."),
    format: Optional[str] = FORMAT_OPTION,
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Token limit per example; default the base model's context."),
    truncate: bool = typer.Option(False, "--truncate", help="Over-long examples are warnings (they will be truncated), not errors."),
    no_tokens: bool = NO_TOKENS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check every line; exit 1 when the dataset has errors, 0 when it is usable."""
    from skillstack.training.data.validate import validate_file

    report = validate_file(file, tokenizer=_tokenizer(ctx, no_tokens), max_tokens=max_tokens, truncate=truncate,
                           validation_path=validation, format=format).to_dict()
    emit(report, as_json, lambda r: _report_text(r, file))
    if not report["ok"]:
        raise typer.Exit(1)


@app.command("stats")
def stats(ctx: typer.Context, file: Path = typer.Argument(..., help="JSONL dataset."), no_tokens: bool = NO_TOKENS_OPTION,
          as_json: bool = JSON_OPTION) -> None:
    """Examples, roles, assistant turns and a token histogram (base model tokenizer)."""
    from skillstack.training.data.stats import dataset_stats

    result = dataset_stats(file, tokenizer=_tokenizer(ctx, no_tokens))

    def human(s: dict[str, Any]) -> str:
        lines = [f"{s['file']}: {s['format']}, {s['examples']} examples ({s['clean_examples']} clean)",
                 f"roles: {s['roles']}", f"assistant turns: {s['assistant_turns']}"]
        if "tokens" in s:
            tokens = s["tokens"]
            lines.append(f"tokens: min {tokens['min']} p50 {tokens['p50']} p95 {tokens['p95']} max {tokens['max']} "
                         f"total {tokens['total']} (limit {tokens['limit']}, {tokens['over_limit']} over)")
            width = max(tokens["histogram"].values())
            lines += [f"  {label:>7} {'#' * max(1, 40 * n // width)} {n}" for label, n in tokens["histogram"].items()]
        return "\n".join(lines)

    emit(result, as_json, human)


@app.command("split")
def split(file: Path = typer.Argument(..., help="JSONL dataset."),
          train_out: Path = typer.Option(..., "--train-out", help="Where the training part goes."),
          validation_out: Path = typer.Option(..., "--validation-out", help="Where the validation part goes."),
          validation_fraction: float = typer.Option(0.1, "--validation-fraction", help="Share held out for validation."),
          seed: int = typer.Option(0, "--seed", help="Shuffle seed."), as_json: bool = JSON_OPTION) -> None:
    """Shuffle and split into train/validation files (duplicates dropped, so no overlap)."""
    from skillstack.training.data.stats import split_file

    result = split_file(file, train_out, validation_out, validation_fraction=validation_fraction, seed=seed)
    emit(result, as_json, lambda r: f"{r['train']} train -> {train_out}, {r['validation']} validation -> {validation_out}")


@app.command("dedupe")
def dedupe(file: Path = typer.Argument(..., help="JSONL dataset."),
           output: Path = typer.Option(..., "--output", "-o", help="Where the deduplicated file goes (may be FILE itself)."),
           as_json: bool = JSON_OPTION) -> None:
    """Drop repeated examples, keeping the first of each."""
    from skillstack.training.data.stats import dedupe_file

    result = dedupe_file(file, output)
    emit(result, as_json, lambda r: f"kept {r['kept']}, removed {r['removed']} duplicate(s) -> {output}")


@app.command("convert")
def convert(file: Path = typer.Argument(..., help="Source JSONL."),
            output: Path = typer.Option(..., "--output", "-o", help="Converted JSONL."),
            to: str = typer.Option(..., "--to", help="openai (from TRL rows), trl, or trl-prompt-completion (from OpenAI rows)."),
            as_json: bool = JSON_OPTION) -> None:
    """Convert between OpenAI fine-tuning files and TRL datasets."""
    from skillstack.training.data.convert import convert_file

    rows = convert_file(file, output, to=to)
    emit({"rows": rows, "output": str(output), "to": to}, as_json, lambda r: f"wrote {r['rows']} rows ({to}) -> {output}")


@app.command("generate")
def generate(
    ctx: typer.Context,
    output: Path = typer.Option(..., "--output", "-o", help="Where the generated chat JSONL goes."),
    template: Optional[Path] = typer.Option(None, "--template", help="JSON template with slots and user/assistant examples."),
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="JSONL of {\"text\": ...} prompts for a teacher model."),
    teacher: str = typer.Option("base", "--teacher", help="Teacher: base, a local skill, or an OpenAI model (OPENAI_API_KEY)."),
    system: str = typer.Option("", "--system", help="System prompt added to every teacher example."),
    n: int = typer.Option(100, "--n", help="Template mode: most examples to write."),
    seed: int = typer.Option(0, "--seed", help="Template mode: sampling seed."),
    max_tokens: int = typer.Option(256, "--max-tokens", help="Teacher mode: answer length."),
    temperature: float = typer.Option(0.0, "--temperature", help="Teacher mode: sampling temperature."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Synthetic chat examples from a template or a teacher model, deduplicated and validated."""
    from skillstack.errors import InputError
    from skillstack.training.data import generate as gen

    if (template is None) == (prompts is None):
        raise InputError("pass exactly one of --template FILE or --prompts FILE")
    if template is not None:
        examples = gen.from_template(gen.load_template(template), n=n, seed=seed)
    else:
        answer = gen.teacher_from_model(settings_from(ctx), teacher, temperature=temperature, max_tokens=max_tokens)
        examples = gen.from_teacher(gen.read_prompts(prompts), answer, system=system, progress=not as_json)
    result = gen.write_generated(examples, output)
    emit(result, as_json, lambda r: f"wrote {r['written']} examples -> {r['output']} ({r['duplicates_dropped']} duplicate(s), "
                                    f"{r['invalid_dropped']} invalid dropped); valid: {r['report']['ok']}")
