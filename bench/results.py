"""Shared by the bench scripts: replace one script's section of bench/RESULTS.md, leaving the others alone.

Each script owns the block between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; a file lock
and an atomic write keep scripts run at the same time from clobbering each other.
"""

from __future__ import annotations

from pathlib import Path

from skillstack.io import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(section: str, body: str, results: Path = RESULTS) -> None:
    from filelock import FileLock

    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    with FileLock(str(results) + ".lock"):
        text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
        block = f"{start}\n{body.strip()}\n{end}"
        if start in text and end in text:
            text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        atomic_write_text(results, text)
