"""Quality on the tuning sets and the unseen sets, side by side: retrieval, routing, RAG answers, the lawyer flow.

Run: `.venv/bin/python bench/quality.py [--only retrieval,routing,rag,lawyer] [--limit N]` (or `make bench-quality`).
Writes the `quality` section of bench/RESULTS.md. Everything goes through the installed `skillstack` CLI with
`--input FILE --json`, exactly as a user would run it, on a fresh home holding the real GDPR (from
$SKILLSTACK_CORPORA, which the Makefile sets to ../shared/corpora) and the demo documents.

Tuning sets (tests/data/) may have been used to fit prompts, thresholds and examples. Unseen sets
(bench/unseen/) were written independently, in users' words, and are never used to fit anything:
a number is only a result on the unseen column. The lawyer area follows the flow step by step (routed,
issues, retrieval per issue and fused, the articles shown to the reasoner, those it cites, those the gate
verifies), so the step that loses the gold articles is visible. `--home DIR` reuses a home across runs
(ingest is incremental); the slow areas (rag, lawyer) take `--limit N` items per set.
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


def build_home(root: Path, home: Path | None = None) -> Path:
    corpora = Path(os.environ.get("SKILLSTACK_CORPORA") or REPO.parent / "shared" / "corpora")
    gdpr = corpora / "gdpr" / "gdpr_eurlex.html"
    if not gdpr.exists():
        raise SystemExit(f"{gdpr} is missing; set SKILLSTACK_CORPORA to the folder holding gdpr/gdpr_eurlex.html")
    home = home or root / "home"
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


def discovered_skills(home: Path) -> set[str]:
    listing = skillstack(home, "skills", "list", "--json")
    return {skill["name"] for skill in (listing[0].get("skills", []) if listing else [])}


def _label(route: str | None, skill: str | None) -> str:
    return f"{route}:{skill}" if route in ("skill", "hybrid") else str(route)


def routing(home: Path, items: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy (route and skill) and the expected calibration error of the router's confidence."""
    from skillstack.agents.route_classifier import expected_calibration_error

    results = skillstack(home, "route", texts=[item["text"] for item in items])
    correct = [_label(r.get("route"), r.get("skill")) == _label(i["route"], i.get("skill")) for i, r in zip(items, results)]
    return {"accuracy": sum(correct) / len(items),
            "ece": expected_calibration_error([float(r.get("confidence") or 0.0) for r in results], correct)}


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


def _gdpr(units: list[dict[str, Any]]) -> list[str]:
    """Article numbers of GDPR units, in order (the demo codes share numbers like 4 with the GDPR)."""
    return [str(u["article"]) for u in units if u.get("article") and "gdpr" in str(u.get("source") or "").lower()]


def _share(gold: set[str], found: set[str]) -> float:
    return len(gold & found) / len(gold)


def lawyer_flow(home: Path, items: list[dict[str, Any]], text: str, gold: str) -> dict[str, float]:
    """The lawyer flow step by step, each as the mean share of a case's gold articles still present after it."""
    from skillstack.agents.lawyer.flow import ISSUE_K, MAX_ARTICLES

    results = skillstack(home, "ask", texts=[item[text] for item in items])
    golds = [set(map(str, item[gold])) for item in items]
    issues = [r.get("issues") or [] for r in results]
    # Retrieval per issue, as the flow's retrieve step runs it: each issue alone, top ISSUE_K.
    flat = [issue for case in issues for issue in case]
    searched = skillstack(home, "search", "-k", str(ISSUE_K), texts=flat) if flat else []
    per_issue: list[list[set[str]]] = []
    cursor = 0
    for case in issues:
        hits = searched[cursor:cursor + len(case)]
        cursor += len(case)
        per_issue.append([set(_gdpr([{"article": h.get("metadata", {}).get("article"), "source": h.get("source")}
                                     for h in (r if isinstance(r, list) else r.get("hits", []))])) for r in hits])
    n = len(items)
    mean = lambda values: sum(values) / n  # noqa: E731 (one-line average over the cases)
    hybrid = [r.get("route") == "hybrid" for r in results]
    shown = [set(list(dict.fromkeys(_gdpr(r.get("retrieved") or [])))[:MAX_ARTICLES]) for r in results]
    return {
        "hybrid": mean(hybrid),
        "issues": mean([len(case) for case in issues]),
        "issue_best": mean([max((_share(g, found) for found in case), default=0.0) for g, case in zip(golds, per_issue)]),
        "issue_union": mean([_share(g, set().union(*case)) if case else 0.0 for g, case in zip(golds, per_issue)]),
        "fused": mean([_share(g, set(_gdpr(r.get("retrieved") or []))) for g, r in zip(golds, results)]),
        "shown": mean([_share(g, s) for g, s in zip(golds, shown)]),
        "cited": mean([_share(g, {str(c["article"]) for c in r.get("citations", [])}) for g, r in zip(golds, results)]),
        "gold_verified": mean([_share(g, verified(r)) for g, r in zip(golds, results)]),
        "gate_passed": mean([r.get("verified") is True for r in results]),
    }


def measure(area: str, home: Path, limit: int) -> list[tuple[str, Any, Any, str]]:
    """Rows (metric, tuning value, unseen value, goal) for one area."""
    lay = read_jsonl(UNSEEN / "gdpr_lay_questions.jsonl")
    cases = read_jsonl(UNSEEN / "gdpr_client_cases.jsonl")
    vocab = read_jsonl(TUNING / "gdpr_questions.jsonl")
    lay_tuning = read_jsonl(TUNING / "gdpr_lay_questions_tuning.jsonl")
    client_tuning = read_jsonl(TUNING / "gdpr_client_cases_tuning.jsonl")
    tuning_cases = read_jsonl(TUNING / "gdpr_cases.jsonl")
    if area == "retrieval":
        return [("recall@5, GDPR questions (hybrid)", recall_at_5(home, vocab, "question", "gold"),
                 recall_at_5(home, lay, "question", "articles"), ">= 0.95 tuning, >= 0.90 unseen")]
    if area == "routing":
        tuned_items = read_jsonl(TUNING / "router_tasks.jsonl") + read_jsonl(TUNING / "router_tasks_lay.jsonl")
        unseen_items = read_jsonl(UNSEEN / "routing_tasks.jsonl")
        classify = "support-classifier" in discovered_skills(home)
        if classify:  # its tasks only count once the skill they route to is installed
            unseen_items += read_jsonl(UNSEEN / "routing_tasks_classify.jsonl")
        else:
            tuned_items = [i for i in tuned_items if i.get("skill") != "support-classifier"]
        tuned, unseen = routing(home, tuned_items), routing(home, unseen_items)
        scope = "" if classify else " (no support-classifier skill: its tasks left out)"
        return [(f"routing accuracy, mixed tasks{scope}", tuned["accuracy"], unseen["accuracy"], ">= 0.97 unseen"),
                ("routing: expected calibration error of the confidence", tuned["ece"], unseen["ece"], "low"),
                ("legal cases routed to hybrid", routed_hybrid(home, [c["text"] for c in tuning_cases + client_tuning]),
                 routed_hybrid(home, [c["case"] for c in cases]), ">= 0.95 unseen")]
    if area == "rag":
        tuned = rag_answers(home, lay_tuning[:limit], "question", "gold")
        unseen = rag_answers(home, lay[:limit], "question", "articles")
        return [("RAG (lay questions): gold article cited and verified", tuned["cited"], unseen["cited"], ""),
                ("RAG (lay questions): key fact stated", tuned["fact"], unseen["fact"], ""),
                ("RAG (lay questions): key fact stated AND gold cited verified", tuned["both"], unseen["both"],
                 ">= 0.80 unseen")]
    if area == "lawyer":
        tuned = lawyer_flow(home, client_tuning[:limit], "text", "gold")
        unseen = lawyer_flow(home, cases[:limit], "case", "articles")
        steps = [("hybrid", "lawyer 0. routed hybrid (through ask)", ">= 0.95 unseen"),
                 ("issues", "lawyer 1. issues identified per case (count)", ""),
                 ("issue_best", "lawyer 2a. retrieval, best single issue: gold share in its top 4", ""),
                 ("issue_union", "lawyer 2b. retrieval, all issues: gold share in the union of their top 4", ""),
                 ("fused", "lawyer 2c. retrieval fused (RRF, 8 hits): gold share", ""),
                 ("shown", "lawyer 2d. gold share among the 4 articles shown to the reasoner", ""),
                 ("cited", "lawyer 3. reasoner's choice: gold share among cited articles", ""),
                 ("gold_verified", "lawyer 4. gold share among gate-verified citations", ">= 0.80 unseen"),
                 ("gate_passed", "lawyer 4b. analyses passing the citation gate", "")]
        return [(name, tuned[key], unseen[key], goal) for key, name, goal in steps]
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
    parser.add_argument("--home", type=Path, default=None,
                        help="reuse this home (GDPR and demo documents ingested into it once) instead of a fresh one")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args(argv)
    areas = [a for a in args.only.split(",") if a]
    rows: list[tuple[str, Any, Any, str]] = []
    with tempfile.TemporaryDirectory(prefix="skillstack-quality-") as root:
        started = time.perf_counter()
        home = build_home(args.home.parent if args.home else Path(root), args.home)
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
