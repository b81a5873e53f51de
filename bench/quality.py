"""Quality on the tuning sets and the unseen sets, side by side: retrieval, routing, RAG answers, the lawyer flow.

Run: `.venv/bin/python bench/quality.py [--only retrieval,routing,rag,lawyer] [--limit N]` (or `make bench-quality`).
Writes the `quality` section of bench/RESULTS.md. Everything goes through the installed `skillstack` CLI with
`--input FILE --json`, exactly as a user would run it, on a fresh home holding the real GDPR (from
$SKILLSTACK_CORPORA, which the Makefile sets to ../shared/corpora) and the demo documents.

Tuning sets (tests/data/) may have been used to fit prompts, thresholds and examples. Unseen sets
(bench/unseen/) were written independently, in users' words, and are never used to fit anything:
a number is only a result on the unseen column.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TUNING = REPO / "tests" / "data"
UNSEEN = BENCH / "unseen" / "knowledge"
SECTION = "quality"
AREAS = ("retrieval", "routing", "rag", "lawyer")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def skillstack(home: Path, *args: str, texts: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the CLI on a fresh process; with texts, in --input batch mode, one JSON result per text."""
    command = [str(Path(sys.executable).with_name("skillstack")), "--home", str(home), *args]
    with tempfile.TemporaryDirectory(prefix="skillstack-quality-input-") as folder:
        if texts is not None:
            batch = Path(folder) / "input.jsonl"
            batch.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
            command += ["--input", str(batch), "--json"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()[:1] in ("{", "[")]


def build_home(root: Path) -> Path:
    corpora = Path(os.environ.get("SKILLSTACK_CORPORA") or REPO.parent / "shared" / "corpora")
    gdpr = corpora / "gdpr" / "gdpr_eurlex.html"
    if not gdpr.exists():
        raise SystemExit(f"{gdpr} is missing; set SKILLSTACK_CORPORA to the folder holding gdpr/gdpr_eurlex.html")
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    skillstack(home, "ingest", "--quiet", str(gdpr), str(REPO / "demo" / "docs"))
    return home


def recall_at_5(home: Path, items: list[dict[str, Any]], question: str, gold: str) -> float:
    results = skillstack(home, "search", "-k", "5", texts=[item[question] for item in items])
    found = 0
    for item, result in zip(items, results):
        hits = result if isinstance(result, list) else result.get("hits", [])
        found += bool({str(h.get("metadata", {}).get("article")) for h in hits} & set(item[gold]))
    return found / len(items)


def route_accuracy(home: Path, items: list[dict[str, Any]]) -> float:
    results = skillstack(home, "route", texts=[item["text"] for item in items])
    return sum(r.get("route") == i["route"] and (r.get("skill") == i.get("skill") or i["route"] == "rag")
               for i, r in zip(items, results)) / len(items)


def routed_hybrid(home: Path, texts: list[str]) -> float:
    results = skillstack(home, "route", texts=texts)
    return sum(r.get("route") == "hybrid" for r in results) / len(texts)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("-", " "))


def verified(result: dict[str, Any]) -> set[str]:
    return {str(c["article"]) for c in result.get("citations", []) if c.get("verified")}


def rag_answers(home: Path, items: list[dict[str, Any]], question: str, gold: str) -> dict[str, float]:
    results = skillstack(home, "ask", texts=[item[question] for item in items])
    fact = cited = both = 0
    for item, result in zip(items, results):
        facts = item.get("key_facts") or []
        has_fact = any(_normal(f) in _normal(result.get("answer", "")) for f in facts) if facts else None
        has_cite = bool(verified(result) & set(item[gold]))
        fact += bool(has_fact)
        cited += has_cite
        both += bool(has_fact) and has_cite
    n = len(items)
    with_facts = sum(bool(item.get("key_facts")) for item in items) or 1
    return {"fact": fact / with_facts, "cited": cited / n, "both": both / with_facts}


def lawyer_flow(home: Path, items: list[dict[str, Any]], text: str, gold: str) -> dict[str, float]:
    results = skillstack(home, "ask", texts=[item[text] for item in items])
    hybrid = sum(r.get("route") == "hybrid" for r in results)
    gold_verified = [len(verified(r) & set(i[gold])) / len(i[gold]) for i, r in zip(items, results)]
    return {"hybrid": hybrid / len(items), "gold_verified": sum(gold_verified) / len(items)}


def measure(area: str, home: Path, limit: int) -> list[tuple[str, Any, Any, str]]:
    """Rows (metric, tuning value, unseen value, goal) for one area."""
    lay = read_jsonl(UNSEEN / "gdpr_lay_questions.jsonl")
    cases = read_jsonl(UNSEEN / "gdpr_client_cases.jsonl")
    vocab = read_jsonl(TUNING / "gdpr_questions.jsonl")
    tuning_cases = read_jsonl(TUNING / "gdpr_cases.jsonl")
    if area == "retrieval":
        return [("recall@5, GDPR questions (hybrid)", recall_at_5(home, vocab, "question", "gold"),
                 recall_at_5(home, lay, "question", "articles"), ">= 0.95 tuning, >= 0.90 unseen")]
    if area == "routing":
        return [("routing accuracy, mixed tasks", route_accuracy(home, read_jsonl(TUNING / "router_tasks.jsonl")),
                 route_accuracy(home, read_jsonl(UNSEEN / "routing_tasks.jsonl")), ">= 0.97 unseen"),
                ("legal cases routed to hybrid", routed_hybrid(home, [c["text"] for c in tuning_cases]),
                 routed_hybrid(home, [c["case"] for c in cases]), ">= 0.95 unseen")]
    if area == "rag":
        tuned = rag_answers(home, vocab[:limit], "question", "gold")
        unseen = rag_answers(home, lay[:limit], "question", "articles")
        return [("RAG: gold article cited and verified", tuned["cited"], unseen["cited"], ""),
                ("RAG: key fact stated", "n/a (no key facts)", unseen["fact"], ""),
                ("RAG: key fact stated AND gold cited verified", "n/a", unseen["both"], ">= 0.80 unseen")]
    if area == "lawyer":
        tuned = lawyer_flow(home, tuning_cases[:limit], "text", "gold")
        unseen = lawyer_flow(home, cases[:limit], "case", "articles")
        return [("lawyer: cases routed hybrid (through ask)", tuned["hybrid"], unseen["hybrid"], ">= 0.95 unseen"),
                ("lawyer: gold articles among verified citations", tuned["gold_verified"], unseen["gold_verified"],
                 ">= 0.80 unseen")]
    raise SystemExit(f"unknown area {area!r}; choose from {', '.join(AREAS)}")


def table(rows: list[tuple[str, Any, Any, str]]) -> str:
    def cell(value: Any) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| metric | tuning set | unseen set | goal |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {cell(tuned)} | {cell(unseen)} | {goal} |" for name, tuned, unseen, goal in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(AREAS), help=f"comma-separated areas: {', '.join(AREAS)}")
    parser.add_argument("--limit", type=int, default=20, help="items per set for the slow areas (rag, lawyer)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args(argv)
    areas = [a for a in args.only.split(",") if a]
    rows: list[tuple[str, Any, Any, str]] = []
    with tempfile.TemporaryDirectory(prefix="skillstack-quality-") as root:
        started = time.perf_counter()
        home = build_home(Path(root))
        for area in areas:
            rows += measure(area, home, args.limit)
            print(table(rows), flush=True)
        minutes = (time.perf_counter() - started) / 60
    body = (f"## Quality: tuning sets vs unseen sets\n\nMeasured through the CLI (`--input --json`) on a fresh home "
            f"holding the real GDPR and the demo documents; {args.limit} items per set for RAG answers and the "
            f"lawyer flow; {minutes:.0f} min. Tuning sets: tests/data/ (fitted to). Unseen sets: bench/unseen/ "
            f"(never fitted to; see its README).\n\n{table(rows)}")
    if not args.no_write:
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]
        from importlib.util import module_from_spec, spec_from_file_location

        spec = spec_from_file_location("bench_results", BENCH / "results.py")
        results = module_from_spec(spec)
        spec.loader.exec_module(results)
        results.write_section(SECTION, body)


if __name__ == "__main__":
    main()
