"""Benchmark of the meta-agent graph, written to its section of bench/RESULTS.md.

Measures, in one run on one machine: router accuracy and calibration on the labelled set
(tests/data/router_tasks.jsonl); decision latency of the embedding router against the LLM router
(baseline) on the same tasks; per-node latency of the hybrid flow; each demo skill against the base
model on its own held-out set (read from the eval cards the skills ship); and the legal-reasoner
against the base model inside the hybrid flow on GDPR cases (gold-article recall, citation precision).

    .venv/bin/python bench/graph.py [--llm-tasks 20] [--gdpr-cases 8] [--hybrid-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ROUTER_TASKS = REPO / "tests" / "data" / "router_tasks.jsonl"
GDPR_CASES = REPO / "tests" / "data" / "gdpr_cases.jsonl"
GDPR_DIR = REPO.parent / "shared" / "corpora" / "gdpr"
DEMO_DOCS = REPO / "demo" / "docs"
SECTION = "graph"
REPEATS = 5  # embedding-router timings per task (median), against one-off noise on a shared machine

# Run as a script, bench/ heads sys.path, and bench/datasets.py would shadow the `datasets` package.
sys.path[0] = str(REPO)
from bench.results import RESULTS, write_section  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def expected(row: dict[str, Any]) -> tuple[str, str | None]:
    return row["route"], row.get("skill")


def bench_routers(settings: Any, skills: dict[str, Any], rows: list[dict[str, Any]], llm_tasks: int) -> tuple[str, dict]:
    from skillstack.agents.route_classifier import expected_calibration_error
    from skillstack.agents.router import EmbeddingRouter, LLMRouter

    started = time.perf_counter()
    router = EmbeddingRouter(settings, skills)
    build_s = time.perf_counter() - started
    router.route("warm-up")
    llm = LLMRouter(settings, skills)
    llm.route(rows[0]["text"])  # warm-up: loads the base model
    # The LLM router (seconds per decision) decides an evenly spread subset. Its decisions are interleaved
    # with the embedding router's, so both see the same load on this shared machine.
    step = max(1, len(rows) // max(1, llm_tasks))
    subset = set(list(range(0, len(rows), step))[:llm_tasks])
    latencies, decisions, llm_lat, llm_ok = [], [], [], []
    for i, row in enumerate(rows):
        timings = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            decision = router.route(row["text"])
            timings.append(time.perf_counter() - t0)
        decisions.append(decision)
        latencies.append(statistics.median(timings))
        if i in subset:
            t0 = time.perf_counter()
            d = llm.route(row["text"])
            llm_lat.append(time.perf_counter() - t0)
            llm_ok.append((d.route, d.skill) == expected(row))
    correct = [(d.route, d.skill) == expected(r) for d, r in zip(decisions, rows)]
    by_route: dict[str, list[bool]] = {}
    for row, ok in zip(rows, correct):
        by_route.setdefault(row["route"] + (f"/{row['skill']}" if row["route"] == "skill" else ""), []).append(ok)
    ece = expected_calibration_error([d.confidence for d in decisions], correct)
    emb_sub_ok = [correct[i] for i in sorted(subset)]
    emb_sub_lat = [latencies[i] for i in sorted(subset)]

    p50_emb, p50_llm = statistics.median(emb_sub_lat), statistics.median(llm_lat)
    lines = [
        "### Router",
        f"Labelled set: {len(rows)} tasks over four routes ({ROUTER_TASKS.relative_to(REPO)}), none of them a routing example.",
        "",
        "| router | tasks | accuracy | decision p50 | decision p95 |",
        "|---|---|---|---|---|",
        f"| embedding (all tasks, median of {REPEATS} per task) | {len(rows)} | {statistics.fmean(correct):.1%} | {statistics.median(latencies) * 1000:.1f} ms | "
        f"{sorted(latencies)[int(0.95 * (len(latencies) - 1))] * 1000:.1f} ms |",
        f"| embedding (LLM subset) | {len(subset)} | {statistics.fmean(emb_sub_ok):.1%} | {p50_emb * 1000:.1f} ms | |",
        f"| LLM, structured output, base model (baseline, same subset) | {len(subset)} | {statistics.fmean(llm_ok):.1%} | "
        f"{p50_llm * 1000:.0f} ms | |",
        "",
        f"- Embedding router decision time = **1/{p50_llm / p50_emb:.0f}** of the LLM router's (goal: at most 1/20); "
        f"accuracy {100 * (statistics.fmean(emb_sub_ok) - statistics.fmean(llm_ok)):+.1f} points against it on the same tasks "
        "(goal: no more than 3 points lower).",
        f"- Accuracy per route: " + ", ".join(f"{k} {statistics.fmean(v):.0%} ({len(v)})" for k, v in sorted(by_route.items())) + ".",
        f"- Calibration: mean confidence {statistics.fmean(d.confidence for d in decisions):.3f} vs accuracy "
        f"{statistics.fmean(correct):.3f}; expected calibration error {ece:.3f} (10 bins); fitted temperature "
        f"{router.temperature:.3f} (leave-one-out on {len(router.labels)} routing examples); router build {build_s:.1f} s.",
    ]
    misses = [f"  - {r['text'][:90]} -> {d.route}{'/' + d.skill if d.skill else ''} ({d.confidence:.2f})"
              for r, d, ok in zip(rows, decisions, correct) if not ok]
    if misses:
        lines += ["- Misrouted:"] + misses
    return "\n".join(lines), {"accuracy": statistics.fmean(correct)}


def bench_hybrid_latency(settings: Any, skills: dict[str, Any], cases: list[str]) -> str:
    from skillstack.agents.state import node_seconds
    from skillstack.graphs.graph import compile_graph

    graph = compile_graph(settings, skills=skills)
    per_node: dict[str, list[float]] = {}
    totals, attempts = [], []
    for text in cases:
        t0 = time.perf_counter()
        state = graph.invoke({"task": text})
        totals.append(time.perf_counter() - t0)
        attempts.append(state.get("attempts", 0))
        for node, seconds in node_seconds(state.get("timings")).items():
            per_node.setdefault(node, []).append(seconds)
    order = ["router", "issues", "retrieve", "reason", "citation_gate"]
    lines = ["### Hybrid flow, per node", f"{len(cases)} legal cases over the demo documents through the compiled graph "
             f"(reasoning attempts per case: {attempts}).", "", "| node | mean | share |", "|---|---|---|"]
    total = statistics.fmean(totals)
    for node in order + sorted(set(per_node) - set(order)):
        if node in per_node:
            mean = statistics.fmean(per_node[node])
            lines.append(f"| {node} | {mean * 1000:.0f} ms | {mean / total:.1%} |")
    lines.append(f"| whole graph | {total * 1000:.0f} ms | 100% |")
    return "\n".join(lines)


def bench_skill_cards(skills: dict[str, Any]) -> str:
    lines = ["### Demo skills against the base model (held-out sets, from each skill's eval card)", ""]
    found = False
    for name in sorted(skills):
        card_path = skills[name].path / "eval_card.json"
        if not card_path.exists():
            lines.append(f"- {name}: no eval card shipped")
            continue
        found = True
        card = json.loads(card_path.read_text(encoding="utf-8"))
        conditions = card.get("conditions") or []
        metric_names = sorted({m for c in conditions for m in (c.get("metrics") or {}) if not m.startswith("field:")})
        lines += [f"**{name}** ({card.get('items', '?')} held-out items, primary metric {card.get('primary_metric')}, "
                  f"promoted: {card.get('promoted')})", "",
                  "| condition | " + " | ".join(metric_names) + " | prompt tokens |",
                  "|---|" + "---|" * (len(metric_names) + 1)]
        for c in conditions:
            cells = [f"{c['metrics'].get(m, float('nan')):.3f}" for m in metric_names]
            lines.append(f"| {c.get('label')} | " + " | ".join(cells) + f" | {c.get('prompt_tokens_mean', '')} |")
        lines.append("")
    return "\n".join(lines) if found else "\n".join(lines + ["(no eval cards yet)"])


def bench_gdpr(settings: Any, skills: dict[str, Any], cases: list[dict[str, Any]], reasoner: str) -> str:
    """The hybrid flow on GDPR cases, with the legal-reasoner skill and with the base model reasoning."""
    from skillstack.agents.lawyer.citations import cited_articles, normalise_article
    from skillstack.agents.lawyer.gate import check_citations
    from skillstack.agents.lawyer.flow import build_lawyer_flow
    from skillstack.graphs.graph import Nodes

    flow = build_lawyer_flow(Nodes(settings, skills))
    rows, failures = [], []
    for model in (reasoner, "base"):
        recall, precision, verified, seconds, problems = [], [], [], [], Counter()
        for case in cases:
            gold = {normalise_article(a) for a in case["gold"]}
            t0 = time.perf_counter()
            state = flow.invoke({"task": case["text"], "skill": model})
            seconds.append(time.perf_counter() - t0)
            retrieved = {normalise_article((h.get("metadata") or {}).get("article") or "") for h in state["hits"]}
            cited = set(cited_articles(state["draft"]))
            recall.append(len(gold & retrieved) / len(gold))
            precision.append(len(cited & gold) / len(cited) if cited else 0.0)
            verified.append(bool(state.get("verified")))
            gate = check_citations(state["draft"], state["hits"], facts=case["text"])  # the gate's verdict, its reasons
            problems.update(kind for kind, failed in (("cited an article not retrieved", gate.unknown_articles),
                                                      ("quote not verbatim", gate.bad_quotes),
                                                      ("cited no article", not cited)) if failed)
        rows.append(f"| {model} | {statistics.fmean(recall):.2f} | {statistics.fmean(precision):.2f} | "
                    f"{statistics.fmean(verified):.0%} | {statistics.fmean(seconds):.1f} s |")
        failures.append(f"- {model}: " + (", ".join(f"{n} {kind}" for kind, n in problems.items()) or "none"))
    return "\n".join([
        "### Legal reasoning on the real GDPR (hybrid flow)",
        f"{len(cases)} GDPR cases with gold articles ({GDPR_CASES.relative_to(REPO)}); same retrieval for both rows.",
        "", "| reasoner | gold-article recall (retrieved) | citation precision (cited that are gold) | passes citation gate | time per case |",
        "|---|---|---|---|---|", *rows, "", "Why answers stayed unverified (after the one regeneration):", *failures])


def _origin(path: Path) -> str:
    """Where a skill came from, for the record: bundled, or a folder given with --skills-dir."""
    return "bundled" if REPO in path.resolve().parents else f"from {path.parent}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm-tasks", type=int, default=20, help="Tasks the (slow) LLM router decides.")
    parser.add_argument("--hybrid-runs", type=int, default=3, help="Legal cases timed through the whole graph.")
    parser.add_argument("--gdpr-cases", type=int, default=8, help="GDPR cases for the legal comparison (0 skips it).")
    parser.add_argument("--skills-dir", type=Path, action="append", default=[],
                        help="Extra skill folders (e.g. stand-ins for demo skills not built yet); named in the results.")
    args = parser.parse_args(argv)

    import platform

    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings
    from skillstack.skills.registry import discover_skills

    work = Path(tempfile.mkdtemp(prefix="skillstack-bench-graph-"))
    cache = os.environ.get("SKILLSTACK_CACHE") or str(REPO / ".skillstack-test" / "cache")
    settings = load_settings(work / "demo", cache=cache, skills_dirs=tuple(args.skills_dir))
    skills = discover_skills(settings).skills
    reasoner = next((n for n, s in sorted(skills.items()) if s.manifest.kind == "reasoning"), None)
    rows = read_jsonl(ROUTER_TASKS)

    parts = [f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}; "
             f"skills: {', '.join(f'{n} ({_origin(s.path)})' for n, s in sorted(skills.items())) or 'none'}; "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."]
    router_md, _ = bench_routers(settings, skills, rows, args.llm_tasks)
    parts.append(router_md)
    print(router_md, flush=True)
    if reasoner and args.hybrid_runs:
        ingest_paths(settings, [DEMO_DOCS], progress=False)
        hybrid_cases = [r["text"] for r in read_jsonl(REPO / "demo" / "tasks.jsonl") if r["route"] == "hybrid"]
        hybrid_cases += [r["text"] for r in rows if r["route"] == "hybrid"]
        parts.append(bench_hybrid_latency(settings, skills, hybrid_cases[: args.hybrid_runs]))
        print(parts[-1], flush=True)
    parts.append(bench_skill_cards(skills))
    if reasoner and args.gdpr_cases and (GDPR_DIR / "gdpr_eurlex.html").exists():
        gdpr_settings = load_settings(work / "gdpr", cache=cache, skills_dirs=tuple(args.skills_dir))
        ingest_paths(gdpr_settings, [GDPR_DIR / "gdpr_eurlex.html"], progress=False)
        parts.append(bench_gdpr(gdpr_settings, skills, read_jsonl(GDPR_CASES)[: args.gdpr_cases], reasoner))
        print(parts[-1], flush=True)
    write_section(SECTION, "## Meta-agent graph (bench/graph.py)\n\n" + "\n\n".join(parts))
    print(f"wrote the '{SECTION}' section of {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
