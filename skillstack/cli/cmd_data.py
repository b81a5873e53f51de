"""`skillstack data ...`: validate, stats, split, dedupe, convert, generate, audit and advise on training datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .common import JSON_OPTION, emit, settings_from

app = typer.Typer(name="data", help="Training datasets: validate, measure, split, dedupe, convert, generate, audit leakage, advise.", no_args_is_help=True)

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


def _side_text(name: str, side: dict[str, Any]) -> list[str]:
    ngram = side["ngram"]
    lines = [f"{name}: {side['compared']} compared, {side['exact']} exact and {side['near']} near duplicate(s) "
             f"({100 * side['leaked_share']:.1f}% leaked); {ngram['n']}-gram overlap {100 * ngram['share']:.1f}%, "
             f"{ngram['rows_with_overlap']} row(s) with any, max {100 * ngram['max_row_share']:.0f}% of a row"]
    lines += [f"  eval {p['eval_line']} <- train {p['train_line']}  {p['match']} {p['score']:.0f}: {p['eval_text']!r}"
              + ("" if p["eval_text"] == p["train_text"] else f" ~ {p['train_text']!r}") for p in side["pairs"]]
    return lines


def _audit_text(report: dict[str, Any]) -> str:
    lines = [f"{report['eval']} ({report['eval_rows']} rows) against {report['train']} ({report['train_rows']} rows)"]
    lines += _side_text("prompts", report["prompts"]) + _side_text("answers", report["answers"])
    if report["answers"]["labels_skipped"]:
        lines.append(f"  ({report['answers']['labels_skipped']} label answer(s) not compared)")
    lines.append(f"leaked: {100 * report['leaked_share']:.1f}% of eval rows")
    return "\n".join(lines)


@app.command("audit")
def audit(
    train_file: Path = typer.Argument(..., help="Training JSONL (any format)."),
    eval_file: Path = typer.Argument(..., help="Evaluation JSONL checked for leakage from the training file."),
    ngram: int = typer.Option(8, "--ngram", help="Word n-gram length for the overlap measure."),
    near: float = typer.Option(90.0, "--near", help="Similarity (rapidfuzz ratio, 0-100) from which texts are near-duplicates."),
    top: int = typer.Option(10, "--top", help="Worst pairs listed per side (prompts, answers)."),
    fail_over: Optional[float] = typer.Option(None, "--fail-over", help="Exit 1 when the leaked share of eval rows (0-1) is over this."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Leakage between two datasets: exact and near-duplicate prompts and answers, n-gram overlap, worst pairs."""
    from skillstack.training.data.audit import AuditOptions, audit_files

    report = audit_files(train_file, eval_file, AuditOptions(ngram=ngram, near=near, top=top))
    emit(report, as_json, _audit_text)
    if fail_over is not None and report["leaked_share"] > fail_over:
        raise typer.Exit(1)


def _advice_text(path: Path, advice: list[dict[str, Any]]) -> str:
    if not advice:
        return f"{path}: no findings; the data looks like behaviour to fine-tune"
    lines = [f"{path}: {len(advice)} finding(s)"]
    for item in advice:
        lines += [f"{item['severity']:<7} {item['code']}: {item['message']}", f"        next: {item['next_step']}"]
        lines += [f"        line {', '.join(map(str, e['lines']))}: {e['values']}" for e in item["evidence"]]
    return "\n".join(lines)


@app.command("advise")
def advise(
    file: Path = typer.Argument(..., help="JSONL dataset (any format)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="The skill's kind (tone, format, reasoning, classify): sizes the examples needed."),
    knowledge_share: float = typer.Option(0.3, "--knowledge-share", help="Warn when more answers than this share state facts absent from their prompt."),
    majority_share: float = typer.Option(0.8, "--majority-share", help="Warn when one label is more than this share of the answers."),
    prompt_similarity: float = typer.Option(95.0, "--prompt-similarity", help="Prompts this similar (0-100) are the same question."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Says, with evidence, when fine-tuning is the wrong tool (knowledge, tables) or the data is weak."""
    from skillstack.training.data.advise import AdviseOptions, advise_file

    options = AdviseOptions(knowledge_share=knowledge_share, majority_share=majority_share, prompt_similarity=prompt_similarity)
    advice = [a.to_dict() for a in advise_file(file, options, kind=kind)]
    emit(advice, as_json, lambda a: _advice_text(file, a))
