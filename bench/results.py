"""Shared by the bench scripts: replace one script's section of bench/RESULTS.md, leaving the others alone.

Each script owns the block between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; a file lock
and a temp-then-rename write keep scripts run at the same time from clobbering each other.
"""

from __future__ import annotations

import os
from pathlib import Path

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
        tmp = results.with_name(f".{results.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(results)
