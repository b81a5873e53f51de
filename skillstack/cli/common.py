"""What every command shares: settings from --home, JSON-or-human output, --input batch files.

Batch mode never loses a line: each input line gets its result or an error object on its own output line.

Kept free of heavy imports so `skillstack --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from skillstack.errors import InputError, SkillstackError
from skillstack.settings import Settings, load_settings

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")
# Batch mode's exit code when some lines failed (each has its error object); 2 is kept for "nothing could run".
BATCH_FAILED_EXIT_CODE = 1
INPUT_OPTION = typer.Option(None, "--input", help="Batch mode: a JSONL file with one {\"text\": ...} per line; prints one "
                            "JSON result per line, or {\"error\": {\"type\", \"message\"}, \"line\": N} for a line that "
                            "failed (exit 1 if any did).")


def settings_from(ctx: typer.Context, **flags: Any) -> Settings:
    """Settings for this invocation: the root --home plus any per-command setting flags."""
    root = ctx.find_root()
    home = (root.obj or {}).get("home")
    return load_settings(home, **flags)


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    """Print one result: compact JSON for programs, or a readable rendering for people."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(human(data).rstrip("\n") + "\n")
    sys.stdout.flush()


@dataclass(frozen=True, kw_only=True)
class BatchLine:
    """One non-blank line of an --input file: its text, or why it cannot be used."""

    number: int = field(metadata={"help": "1-based line number in the file (blank lines count)."})
    text: str = field(default="", metadata={"help": "The line's \"text\"; empty when error is set."})
    error: SkillstackError | None = field(default=None, metadata={"help": "Why the line is unusable."})


def read_batch(path: Path) -> list[BatchLine]:
    """Every non-blank line of a batch file: one JSON object with a non-empty string "text" each.

    A broken line does not stop the batch: it becomes an error for its own output line, and is reported on
    stderr at once, before any model loads. An unreadable file is an InputError.
    """
    try:
        # split("\n"), not splitlines(): a JSON string may hold U+2028 or U+0085, which are no line ends here.
        lines = [line.removesuffix("\r") for line in path.read_text(encoding="utf-8-sig").split("\n")]
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; --input takes a JSONL file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a folder; --input takes a JSONL file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    batch: list[BatchLine] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append(_batch_line(path, number, line))
        if batch[-1].error is not None:
            print(f"error: {batch[-1].error}", file=sys.stderr, flush=True)
    return batch


def _batch_line(path: Path, number: int, line: str) -> BatchLine:
    try:
        item = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return BatchLine(number=number, error=InputError(
            f"{path}:{number}: not JSON ({reason}); each line must be {{\"text\": \"...\"}}"))
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
        return BatchLine(number=number, error=InputError(
            f"{path}:{number}: each line must be an object with a non-empty string \"text\""))
    return BatchLine(number=number, text=item["text"])


def error_object(exc: BaseException, line: int) -> dict[str, Any]:
    """A failed batch line's output: {"error": {"type", "message"}, "line": N}."""
    return {"error": {"type": type(exc).__name__, "message": str(exc)}, "line": line}


def each_item(answer: Callable[[str], Any], texts: Iterable[str]) -> Iterator[Any]:
    """answer(text) for every text, in order; a failure is yielded in its place, so it loses only its own line."""
    for text in texts:
        try:
            yield answer(text)
        except Exception as exc:  # noqa: BLE001 - batch mode reports any per-item failure on its own line
            yield exc


def require_text(text: str | None, what: str = "query") -> str:
    if text is None or not text.strip():
        raise InputError(f"the {what} is empty; pass some text or --input FILE.jsonl")
    return text


def run_inputs(text: str | None, input_file: Path | None, what: str, answer: Callable[[list[str]], Iterable[Any]], *,
               as_json: bool, human: Callable[[Any], str]) -> None:
    """Answer TEXT, or every line of --input; inputs are read and checked before answer() loads anything.

    `answer(texts)` yields one result per text, in order, or the exception that item failed with. The one TEXT
    prints as JSON or for people and its failure is the command's error. In batch mode each line gets its own
    output line, a result or error_object(), in input order; exit code BATCH_FAILED_EXIT_CODE if any failed.
    """
    if input_file is None:
        [result] = list(answer([require_text(text, what)]))  # run to its end: answer()'s resources close
        if isinstance(result, BaseException):
            raise result
        emit(result, as_json, human)
        return
    lines = read_batch(input_file)
    texts = [line.text for line in lines if line.error is None]
    # Lazy: a generator answer() loads its model only when the first good line needs it.
    results = iter(answer(texts)) if texts else iter(())
    failed = 0
    try:
        for line in lines:
            result = line.error if line.error is not None else next(results)
            if isinstance(result, BaseException):
                failed += 1
                result = error_object(result, line.number)
            emit(result, as_json=True)
    finally:
        getattr(results, "close", lambda: None)()  # a generator answer() closes what it opened (a session store)
    if failed:
        print(f"error: {failed} of {len(lines)} input lines failed (see their \"error\" objects)", file=sys.stderr)
        raise typer.Exit(BATCH_FAILED_EXIT_CODE)
