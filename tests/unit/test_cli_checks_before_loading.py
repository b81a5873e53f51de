"""Arguments and --input files are checked before any model loads (issue 12, item 6).

Timing-free: each command runs in a subprocess whose model cache is poisoned (the converted base model's
config.json is garbage), so any attempt to load the base model or its tokenizer fails loudly. A command
that checks its input first says what is wrong with the input instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SKILLSTACK = shutil.which("skillstack", path=str(Path(sys.executable).parent))
POISON = "{ this is no model config"


@pytest.fixture
def poisoned(tmp_path: Path) -> dict[str, str]:
    from skillstack.models import _CONVERSION_VERSION

    target = tmp_path / "cache" / "base-models" / f"smollm2-135m-instruct-v{_CONVERSION_VERSION}"
    target.mkdir(parents=True)
    (target / "config.json").write_text(POISON)
    (tmp_path / "home").mkdir()
    return os.environ | {"SKILLSTACK_CACHE": str(tmp_path / "cache"), "SKILLSTACK_HOME": str(tmp_path / "home")}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    assert SKILLSTACK, "the skillstack entry point is not installed beside this Python"
    return subprocess.run([SKILLSTACK, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("args", [["run", "brand-voice", ""], ["run", "base", "   "], ["ask", ""]],
                         ids=lambda a: " ".join(a) or "empty")
def test_empty_text_is_refused_before_any_model_loads(poisoned: dict[str, str], args: list[str]) -> None:
    done = _run(poisoned, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "is empty" in done.stderr
    assert "Traceback" not in done.stderr and "config" not in done.stderr.lower()


def test_a_batch_of_only_broken_lines_is_answered_line_by_line_without_loading_a_model(
        poisoned: dict[str, str], tmp_path: Path) -> None:
    batch = tmp_path / "broken.jsonl"
    batch.write_text('not json\n\n{"text": ""}\n["a list"]\n{"text": 5}\n', encoding="utf-8")
    done = _run(poisoned, "run", "brand-voice", "--input", str(batch))
    assert done.returncode == 1, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["line"] for row in rows] == [1, 3, 4, 5]
    assert all(row["error"]["type"] == "InputError" and f"broken.jsonl:{row['line']}:" in row["error"]["message"]
               for row in rows)
    assert "Traceback" not in done.stderr and "config" not in done.stderr.lower()


def test_an_unreadable_input_file_fails_before_any_model_loads(poisoned: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "latin1.jsonl").write_bytes(b'{"text": "caf\xe9"}\n')
    for path in (tmp_path / "missing.jsonl", tmp_path / "latin1.jsonl", tmp_path):
        done = _run(poisoned, "run", "base", "--input", str(path))
        assert done.returncode == 2 and str(path) in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_batch_line_may_hold_unicode_line_separators_and_crlf(tmp_path: Path) -> None:
    from skillstack.cli.common import read_batch

    batch = tmp_path / "in.jsonl"
    batch.write_text('{"text": "one\u2028two\x85three"}\r\n\r\n{"text": "four"}\r\n', encoding="utf-8")
    lines = read_batch(batch)
    assert [(line.number, line.text, line.error) for line in lines] == [(1, "one\u2028two\x85three", None),
                                                                        (3, "four", None)]
