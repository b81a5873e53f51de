"""Running the compiled graph for one task: checkpointers, threads, clarifying questions, streaming.

SQLite is the default checkpointer for CLI sessions (home/sessions.sqlite); any LangGraph
checkpointer can be passed instead. A task sent to a thread whose run is waiting on a clarifying
question answers that question (resumes the interrupt). Not here: the graph itself (graph.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from skillstack.agents.state import FALLBACK, new_task_input, public_result
from skillstack.settings import Settings

SESSIONS_FILE = "sessions.sqlite"


@contextlib.contextmanager
def sqlite_checkpointer(settings: Settings) -> Iterator[Any]:
    """A SqliteSaver on home/sessions.sqlite, closed on exit."""
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    settings.home.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(settings.home / SESSIONS_FILE, check_same_thread=False)
    try:
        yield SqliteSaver(connection)
    finally:
        connection.close()


@dataclass(kw_only=True)
class TaskRun:
    """The outcome of one task: the final state values, or the question the graph is waiting on."""

    values: dict[str, Any]
    thread_id: str | None = None
    question: dict[str, Any] | None = None

    def result(self) -> dict[str, Any]:
        """The public `ask` result; a pending clarifying question becomes the answer."""
        out = public_result(self.values)
        if self.question is not None:
            out.update(route=FALLBACK, skill=None, answer=self.question.get("question", ""), needs_clarification=True)
        if self.thread_id:
            out["thread"] = self.thread_id
        return out


def _pending_interrupt(graph: Any, config: dict[str, Any]) -> bool:
    snapshot = graph.get_state(config)
    return bool(snapshot.next) and any(task.interrupts for task in snapshot.tasks)


def run_task(graph: Any, text: str, *, thread_id: str | None = None,
             on_event: Callable[[tuple[str, ...], str, Any], None] | None = None) -> TaskRun:
    """Run (or resume) the graph on text; on_event(namespace, mode, chunk) sees node updates and tokens.

    Needs a thread only when the graph has a checkpointer; one is made up if none is given.
    """
    from langgraph.types import Command

    config: dict[str, Any] = {"recursion_limit": 40}
    payload: Any = new_task_input(text)
    if graph.checkpointer is not None:
        thread_id = thread_id or uuid.uuid4().hex
        config["configurable"] = {"thread_id": thread_id}
        if _pending_interrupt(graph, config):
            payload = Command(resume=text)
    values: dict[str, Any] = {}
    question = None
    modes = ["values", "updates", "messages"] if on_event else ["values", "updates"]
    for namespace, mode, chunk in graph.stream(payload, config, stream_mode=modes, subgraphs=True):
        if mode == "values" and not namespace:
            values = chunk
        elif mode == "updates" and "__interrupt__" in chunk:
            question = dict(chunk["__interrupt__"][0].value)
        if on_event:
            on_event(namespace, mode, chunk)
    return TaskRun(values=values, thread_id=thread_id if graph.checkpointer is not None else None, question=question)
