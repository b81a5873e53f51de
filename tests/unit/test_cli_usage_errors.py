"""Usage errors through the installed entry point: one line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SKILLSTACK = shutil.which("skillstack", path=str(Path(sys.executable).parent))

BAD_CALLS = [
    ["run", "base", "hi", "--top-p", "2"],
    ["run", "base", "hi", "--temperature", "-1"],
    ["run", "base", "hi", "--max-tokens", "0"],
    ["search", "-k", "abc", "x"],
    ["search", "--bogus", "x"],
    ["run"],
    ["nosuchcommand"],
    ["ingest", "--batch-size", "0", "."],
    ["train", "sft", "data.jsonl", "--grader", "g.json"],
]


@pytest.mark.parametrize("args", BAD_CALLS, ids=lambda a: " ".join(a))
def test_a_usage_error_is_one_line_and_exit_code_2(args: list[str], tmp_path: Path) -> None:
    assert SKILLSTACK, "the skillstack entry point is not installed beside this Python"
    done = subprocess.run([SKILLSTACK, "--home", str(tmp_path), *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
