"""Validator throughput on a 100k-line chat file built from the real customer-support corpus.

Baseline, in the same run: a bare `json.loads` loop over the same lines (the least any JSONL reader
does). Measured: skillstack's validate_file without token counting, and with the base model's
tokenizer (chat template + token limit, and exact counts of every example). 1% of lines are broken in assorted ways, so finding paths run too.
Writes the `datasets` section of bench/RESULTS.md.

Usage: .venv/bin/python bench/datasets.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpora" / "customer-support" / "bitext_customer_support.csv"
SECTION = "datasets"
BROKEN = [b"", b"{not json", b'{"messages": [], "x": NaN}', b"[1, 2]", b'{"messages": [{"role": "bot", "content": "x"}]}',
          b"\xff\xfe garbage"]


def build_file(path: Path, lines: int, seed: int = 0) -> int:
    """Write `lines` chat examples (system/user/assistant from the corpus); returns how many are broken."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = [(r["instruction"], r["response"]) for r in csv.DictReader(handle)]
    rng = random.Random(seed)
    broken = 0
    with path.open("wb") as out:
        for i in range(lines):
            if rng.random() < 0.01:
                out.write(rng.choice(BROKEN) + b"\n")
                broken += 1
                continue
            question, answer = rows[i % len(rows)]
            example = {"messages": [{"role": "system", "content": "You are a helpful customer support agent."},
                                    {"role": "user", "content": f"{question} (ticket {i})"},
                                    {"role": "assistant", "content": answer}]}
            out.write(json.dumps(example).encode() + b"\n")
    return broken


def json_baseline(path: Path) -> float:
    start = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            try:
                json.loads(line)
            except ValueError:
                pass
    return time.perf_counter() - start


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not CORPUS.exists():
        print(f"{CORPUS} is missing; the benchmark needs the customer-support corpus", file=sys.stderr)
        return 1

    from skillstack.models import load_tokenizer
    from skillstack.settings import load_settings
    from skillstack.training.data.tokens import context_length
    from skillstack.training.data.validate import validate_file

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "train.jsonl"
        broken = build_file(path, args.lines)
        size_mb = path.stat().st_size / 1e6
        base_s = json_baseline(path)
        plain_s, report = timed(validate_file, path)
        tokenizer = load_tokenizer(load_settings())
        tokens_s, token_report = timed(validate_file, path, tokenizer=tokenizer)
        exact_s, _ = timed(validate_file, path, tokenizer=tokenizer, exact_tokens=True)

    n = args.lines
    rows = [("json.loads loop (baseline)", base_s), ("validate_file, no tokens", plain_s),
            ("validate_file + token limit (base-model tokenizer)", tokens_s),
            ("validate_file + exact token count of every example (as `data stats`)", exact_s)]
    table = "\n".join(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | {size_mb / seconds:.1f} | {seconds / base_s:.1f}x |"
                      for name, seconds in rows)
    body = f"""## Dataset validator throughput (bench/datasets.py)

{n:,} lines ({size_mb:.0f} MB) of chat examples built from the customer-support corpus, {broken:,} of them broken
on purpose; {os.cpu_count()} CPUs, shared machine. The validator found {len(report.errors):,} errors and
{len(report.warnings):,} warnings ({len(token_report.errors) - len(report.errors)} more errors with token counting:
examples over {context_length(tokenizer)} tokens, the base model's context). The limit check tokenizes only examples
whose rendered text has more bytes than the limit (a token covers at least one byte); `data stats` counts every
example. Time relative to the baseline: lower is better.

| pass | seconds | lines/s | MB/s | time vs json.loads |
|---|---|---|---|---|
{table}
"""
    write_section(SECTION, body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
