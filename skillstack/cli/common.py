"""What every command shares: settings from --home, JSON-or-human output, --input batch files.

Kept free of heavy imports so `skillstack --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer

from skillstack.errors import InputError
from skillstack.settings import Settings, load_settings

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")
INPUT_OPTION = typer.Option(None, "--input", help="Batch mode: a JSONL file with one {\"text\": ...} per line; prints one JSON result per line.")


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


def read_batch(path: Path) -> list[str]:
    """Texts of a batch file: one JSON object with a non-empty string "text" per line (blank lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; --input takes a JSONL file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    texts: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON ({exc.msg}); each line must be {{\"text\": \"...\"}}") from exc
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise InputError(f"{path}:{number}: each line must be an object with a non-empty string \"text\"")
        texts.append(item["text"])
    return texts


def emit_batch(results: Iterable[Any]) -> None:
    """Batch mode output: one JSON result per line, in input order, flushed as each is ready."""
    for result in results:
        emit(result, as_json=True)


def require_text(text: str | None, what: str = "query") -> str:
    if text is None or not text.strip():
        raise InputError(f"the {what} is empty; pass some text or --input FILE.jsonl")
    return text


def read_inputs(text: str | None, input_file: Path | None, what: str) -> list[str]:
    """The texts a command works on: every line of --input, or the one TEXT argument."""
    return read_batch(input_file) if input_file else [require_text(text, what)]


def emit_results(results: Iterable[Any], *, batch: bool, as_json: bool, human: Callable[[Any], str]) -> None:
    """Batch mode: one JSON line per result; otherwise the single result, as JSON or for people."""
    if batch:
        emit_batch(results)
    else:
        emit(next(iter(results)), as_json, human)
