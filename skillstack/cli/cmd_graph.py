"""CLI commands of the meta-agent graph: `route`, `ask` (the whole graph) and `demo`.

`route` only builds the router; `ask` builds and compiles the graph once (also in --input batch mode);
`demo` ingests the shipped demo documents into a demo home and runs one task per route, printing each
answer beside the outcome the task expects (demo/tasks.jsonl's "expect"), so a reader can judge it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer

from skillstack.demo import demo_path
from skillstack.errors import InputError, SkillstackError
from skillstack.messages import content_text
from .common import INPUT_OPTION, JSON_OPTION, each_item, emit, run_inputs, settings_from

# Top-level commands (no group name): `skillstack ask`, not `skillstack graph ask`.
app = typer.Typer()


def _human_route(decision: dict[str, Any]) -> str:
    target = decision["route"] + (f"/{decision['skill']}" if decision.get("skill") else "")
    return f"{target}  (confidence {decision['confidence']:.2f}) - {decision['reason']}"


def _human_answer(result: dict[str, Any]) -> str:
    lines = [result.get("answer", "")]
    if result.get("citations"):
        marks = ", ".join(f"Article {c['article']} {'(verified)' if c['verified'] else '(NOT verified)'}"
                          for c in result["citations"])
        lines.append(f"\nCitations: {marks}")
    if result.get("sources"):
        lines.append("Sources: " + "; ".join(result["sources"]))
    target = (result.get("route") or "") + (f"/{result['skill']}" if result.get("skill") else "")
    lines.append(f"Route: {target}" + (f"  (thread {result['thread']})" if result.get("thread") else ""))
    return "\n".join(lines)


def _stream_printer(out: Any) -> Any:
    """on_event for run_task: a line per node update, tokens as they come."""

    def on_event(namespace: tuple[str, ...], mode: str, chunk: Any) -> None:
        if mode == "messages":
            message, _meta = chunk
            if text := content_text(message.content):
                out.write(text)
                out.flush()
        elif mode == "updates":
            for node, update in chunk.items():
                if node == "__interrupt__":
                    continue
                keys = ", ".join(sorted(k for k in (update or {}) if k != "timings"))
                where = "/".join(part.split(":")[0] for part in namespace)
                out.write(f"\n[{where + '/' if where else ''}{node}] {keys}\n")
                out.flush()

    return on_event


def _run_asks(settings: Any, texts: list[str], *, thread: str | None, stream: bool, as_json: bool,
              max_tokens: int | None) -> Iterator[Any]:
    """Compile the graph once and run every text through it (a SQLite-checkpointed session with --thread).

    Yields each text's result, or the exception it failed with (one failing task loses only its own line).
    """
    import contextlib

    from skillstack.graphs.graph import compile_graph
    from skillstack.graphs.session import run_task, sqlite_checkpointer

    with contextlib.ExitStack() as stack:
        saver = stack.enter_context(sqlite_checkpointer(settings)) if thread else None
        graph = compile_graph(settings, checkpointer=saver, max_tokens=max_tokens)
        on_event = _stream_printer(sys.stderr if as_json else sys.stdout) if stream else None
        yield from each_item(lambda text: run_task(graph, text, thread_id=thread, on_event=on_event).result(), texts)


def _human_feedback(result: dict[str, Any]) -> str:
    target = result["route"] + (f"/{result['skill']}" if result.get("skill") else "")
    return f"recorded: {target} for {result['text']!r} in {result['file']} ({result['examples']} feedback examples)"


def _record_feedback(settings: Any, route: str, skill: str | None, text: str | None) -> dict[str, Any]:
    from skillstack.agents.route_feedback import feedback_path, last_routed, read_feedback, record_feedback
    from skillstack.skills.registry import discover_skills

    item = record_feedback(settings, text if text is not None else last_routed(settings), route, skill,
                           discover_skills(settings).skills)
    return {"recorded": True, **item.to_dict(), "file": str(feedback_path(settings)),
            "examples": len(read_feedback(settings))}


@app.command("route")
def route(
    ctx: typer.Context,
    text: Optional[str] = typer.Argument(None, help="The task to route (with --feedback: the task to correct; default the last one routed)."),
    as_json: bool = JSON_OPTION,
    input_file: Optional[Path] = INPUT_OPTION,
    llm: bool = typer.Option(False, "--llm", help="Use the LLM router (structured output) instead of the embedding router."),
    feedback: Optional[str] = typer.Option(None, "--feedback", metavar="ROUTE", help="Record the correct route (rag, skill, hybrid, fallback) of TEXT, or of the last routed task, in HOME/router_feedback.jsonl: the next router build learns it."),
    skill: Optional[str] = typer.Option(None, "--skill", help="With --feedback: the skill of a skill (or hybrid) route."),
) -> None:
    """Say where a task would go: rag, skill (which) or hybrid, with a calibrated confidence; or correct it (--feedback)."""
    settings = settings_from(ctx, router="llm" if llm else None)
    if feedback is not None:
        if input_file:
            raise InputError("--feedback records one task; pass TEXT (or nothing, for the last routed task), not --input")
        emit(_record_feedback(settings, feedback, skill, text), as_json, _human_feedback)
        return
    if skill:
        raise InputError("--skill goes with --feedback ROUTE")
    from skillstack.agents.route_feedback import remember_last
    from skillstack.agents.router import build_router

    def answer(texts: list[str]) -> Iterator[Any]:
        router = build_router(settings)
        for task, decision in zip(texts, each_item(lambda task: router.route(task).to_dict(), texts)):
            if not input_file and not isinstance(decision, BaseException):
                remember_last(settings, task, decision)  # `route --feedback ROUTE` alone corrects this one
            yield decision

    run_inputs(text, input_file, "task", answer, as_json=as_json, human=_human_route)


@app.command("ask")
def ask(
    ctx: typer.Context,
    text: Optional[str] = typer.Argument(None, help="The task or question."),
    as_json: bool = JSON_OPTION,
    input_file: Optional[Path] = INPUT_OPTION,
    thread: Optional[str] = typer.Option(None, "--thread", help="Session id: state is kept in HOME/sessions.sqlite, and the next ask in the thread answers a clarifying question."),
    stream: bool = typer.Option(False, "--stream", help="Show node updates and tokens as they happen (on stderr with --json)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Cap every generation (default: each skill's own)."),
) -> None:
    """Run the whole meta-agent graph: route, then RAG, a skill, or the hybrid lawyer flow."""
    settings = settings_from(ctx)
    run_inputs(text, input_file, "task", lambda texts: _run_asks(
        settings, texts, thread=thread, stream=stream, as_json=as_json or bool(input_file), max_tokens=max_tokens),
               as_json=as_json, human=_human_answer)


def _demo_tasks(path: Path) -> list[dict[str, Any]]:
    """The demo's tasks: one {"text", "route", "skill", "expect"} per line; InputError naming the line otherwise."""
    from skillstack.json_lines import object_lines

    items = []
    for where, item in object_lines(path, "a non-empty string \"text\""):
        if not isinstance(item.get("text"), str) or not item["text"].strip():
            raise InputError(f"{where}: each task needs a non-empty string \"text\"")
        items.append(item)
    return items


def _demo_row(item: dict[str, Any], result: dict[str, Any] | None, seconds: float, error: str | None) -> dict[str, Any]:
    """One task's outcome beside what it should be, as `demo --json` prints it."""
    expected = (item.get("route") or "") + (f"/{item['skill']}" if item.get("skill") else "")
    row: dict[str, Any] = {"task": item["text"], "expected_route": expected, "expect": item.get("expect", ""),
                           "seconds": round(seconds, 2)}
    if error is not None:
        return {**row, "error": error}
    routed = result["route"] + (f"/{result['skill']}" if result.get("skill") else "")
    return {**row, "route": routed, "route_as_expected": routed == expected, "confidence": result["confidence"],
            "reason": result["reason"], "answer": result["answer"], "citations": result["citations"],
            "sources": result["sources"]}


def _print_demo_row(console: Any, number: int, total: int, row: dict[str, Any]) -> None:
    from rich.table import Table

    console.rule(f"Task {number}/{total}: expected {row['expected_route']}")
    console.print(row["task"], style="bold")
    if "error" in row:
        console.print(f"error: {row['error']}", style="red")
        return
    mark = "[green]as expected[/green]" if row["route_as_expected"] else "[red]NOT the expected route[/red]"
    console.print(f"route: {row['route']} ({mark})  confidence {row['confidence']:.2f}  ({row['reason']})")
    if row["sources"]:
        console.print("sources: " + "; ".join(row["sources"]))
    if row["citations"]:
        console.print("citations: " + ", ".join(
            f"Article {c['article']} ({'verified' if c['verified'] else 'NOT verified'})" for c in row["citations"]))
    # Side by side, so a reader can judge the answer against what it should say.
    table = Table(show_lines=True, expand=True)
    table.add_column(f"answer ({row['seconds']:.1f}s)", ratio=3)
    table.add_column("expected outcome", ratio=2, style="cyan")
    table.add_row(row["answer"] or "(empty)", row["expect"] or "(not stated)")
    console.print(table)


@app.command("demo")
def demo(
    ctx: typer.Context,
    docs: Path = typer.Option(demo_path("docs"), "--docs", help="Documents to ingest for the demo."),
    tasks: Path = typer.Option(demo_path("tasks.jsonl"), "--tasks", help="Demo tasks: one {\"text\", \"route\", \"skill\", \"expect\"} per line."),
    demo_home: Optional[Path] = typer.Option(None, "--demo-home", help="Home for the demo store; default HOME/demo."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Cap every generation (default: each skill's own)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ingest the shipped demo documents, then run one task per route, each answer beside its expected outcome."""
    from rich.console import Console

    from skillstack.graphs.graph import compile_graph
    from skillstack.graphs.session import run_task
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    console = Console(stderr=as_json)  # with --json, stdout carries only the JSON lines
    base = settings_from(ctx)
    settings = load_settings(demo_home or base.home / "demo", cache=str(base.cache_dir))
    if not docs.is_dir():
        raise InputError(f"{docs}: demo documents folder not found; pass --docs FOLDER")
    items = _demo_tasks(tasks)
    console.rule(f"Ingesting {docs} into {settings.home}")
    # The demo's store holds the demo documents only (one home may have seen another checkout's copy).
    report = ingest_paths(settings, [docs], progress=not as_json, prune=True)
    console.print(", ".join(f"{key}: {len(value) if isinstance(value, list) else value}"
                            for key, value in report.to_dict().items()))
    graph = compile_graph(settings, max_tokens=max_tokens)
    failed: list[int] = []
    for number, item in enumerate(items, start=1):
        started = time.perf_counter()
        result, error = None, None
        try:
            result = run_task(graph, item["text"]).result()
        except SkillstackError as exc:  # one broken route should not hide the others
            failed.append(number)
            error = str(exc)
        row = _demo_row(item, result, time.perf_counter() - started, error)
        if as_json:
            emit(row, as_json=True)
        else:
            _print_demo_row(console, number, len(items), row)
    if failed:
        raise SkillstackError(f"demo task(s) {', '.join(map(str, failed))} failed (see above)")
