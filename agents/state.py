"""The meta-agent graph's state: the task, the route decision, retrieved chunks, skill outputs, the answer.

Also its chat side (the `messages` transcript, the input schema that takes `{"messages": [...]}` or
`{"task": ...}`, the answer as an AIMessage), the per-run context (RunContext), the reducers that
merge node updates, the wrapper that times a node, how a retrieval hit is kept in state, and the
projection to the public `ask` result. typing_extensions.TypedDict, not typing's: pydantic needs it
before Python 3.12 to publish the JSON schemas (LangGraph server, Studio, graph.as_tool()).
Not here: how any of it is computed (router.py, lawyer/, graphs/graph.py).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from skillstack.messages import content_text
from skillstack.retrieval.hits import Hit

ROUTES = ("rag", "skill", "hybrid")
FALLBACK = "fallback"


def add_timings(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Append node timings ({"node", "seconds", "id"}), skipping ids already present.

    Ids make the merge idempotent: a subgraph hands back the whole list it was given plus its own.
    None resets the list (a new task in a checkpointed thread).
    """
    if right is None:
        return []
    merged = list(left or [])
    seen = {entry["id"] for entry in merged}
    merged += [entry for entry in (right or []) if entry["id"] not in seen]
    return merged


def timed(name: str, node: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Wrap a node so its update also records how long it took (state['timings'])."""

    @functools.wraps(node)
    def run(state: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        update = node(state)
        return {**update, "timings": [{"node": name, "seconds": time.perf_counter() - started, "id": uuid.uuid4().hex}]}

    return run


def node_seconds(timings: list[dict[str, Any]] | None) -> dict[str, float]:
    """Seconds per node; a node that ran twice (a regeneration) adds up."""
    totals: dict[str, float] = {}
    for entry in timings or []:
        totals[entry["node"]] = totals.get(entry["node"], 0.0) + entry["seconds"]
    return totals


@dataclass(kw_only=True)
class RunContext:
    """Per-run settings, passed as `graph.invoke(input, context=RunContext(...))` (or a dict of these keys)."""

    route: str | None = field(default=None, metadata={"help": "Force the route (rag, skill or hybrid); skips the router."})
    skill: str | None = field(default=None, metadata={"help": "Force the skill (implies the skill route unless route says hybrid)."})
    max_tokens: int | None = field(default=None, metadata={"help": "Cap every generation of this run."})
    k: int | None = field(default=None, metadata={"help": "Passages the rag route retrieves."})


class GraphInput(TypedDict, total=False):
    """What a run takes: a chat (the last human message is the task, earlier turns the conversation) or a task."""

    messages: Annotated[list[AnyMessage], add_messages]
    task: str


class GraphState(TypedDict, total=False):
    # The transcript: the task as a HumanMessage and each answer as an AIMessage carrying the decision.
    messages: Annotated[list[AnyMessage], add_messages]
    task: str
    # The route decision: route is one of ROUTES, or FALLBACK when the router is unsure.
    route: str
    skill: str | None
    confidence: float
    reason: str
    candidates: list[str]  # the router's two best labels ("rag", "skill:brand-voice"): what an unsure router asks about
    # Retrieval: each hit is Hit.to_dict() plus its "citation" {"source", "article", "title"}.
    issues: list[str]
    hits: list[dict[str, Any]]
    # Skill outputs: {"skill", "output", "parsed"} for the skill route; IRAC drafts for the hybrid route.
    skill_output: dict[str, Any] | None
    draft: str
    attempts: int
    correction: str | None
    # The final answer.
    answer: str
    citations: list[dict[str, Any]]
    sources: list[str]
    verified: bool | None
    clarified: bool
    timings: Annotated[list[dict[str, Any]], add_timings]


def new_task_input(task: str) -> dict[str, Any]:
    """Graph input for a new task: in a checkpointed thread, nothing of the previous task carries over."""
    return {"task": task, "route": None, "skill": None, "confidence": None, "reason": "", "candidates": [], "issues": [], "hits": [],
            "skill_output": None, "draft": "", "attempts": 0, "correction": None, "answer": None, "citations": [],
            "sources": [], "verified": None, "clarified": False, "timings": None}


def intake(state: dict[str, Any]) -> dict[str, Any]:
    """A new run's state: the task from the last human message (chat input) or from `task` (added to the
    transcript as a HumanMessage), and nothing of a previous task in the thread."""
    messages = list(state.get("messages") or [])
    if messages and isinstance(messages[-1], HumanMessage):
        return new_task_input(content_text(messages[-1].content))
    task = state.get("task") or ""
    return {**new_task_input(task), "messages": [HumanMessage(task)]}


def conversation(state: dict[str, Any]) -> list[BaseMessage]:
    """The chat before the task: earlier human and AI turns (tool traffic left out), the task last."""
    earlier = [m for m in (state.get("messages") or [])[:-1] if m.type in ("human", "ai") and content_text(m.content)]
    return [*earlier, HumanMessage(state["task"])]


def answer_message(state: dict[str, Any], answer: str) -> AIMessage:
    """The answer as the AIMessage appended to the transcript, the decision in its response_metadata."""
    return AIMessage(answer, name="skillstack", response_metadata={
        "route": state.get("route"), "skill": state.get("skill"), "confidence": state.get("confidence"),
        "citations": list(state.get("citations") or []), "sources": list(state.get("sources") or []),
        "verified": state.get("verified")})


def public_result(state: dict[str, Any]) -> dict[str, Any]:
    """What `skillstack ask --json` prints: the contract keys, then the decision details."""
    return {
        "route": state.get("route"),
        "skill": state.get("skill"),
        "answer": state.get("answer") or "",
        "citations": list(state.get("citations") or []),
        "sources": list(state.get("sources") or []),
        "confidence": state.get("confidence"),
        "reason": state.get("reason", ""),
        "verified": state.get("verified"),
        "parsed": (state.get("skill_output") or {}).get("parsed"),
        # What the answer was built from: the lawyer flow's issues and the retrieved units, best first.
        "issues": list(state.get("issues") or []),
        "retrieved": [{"source": h.get("source"), "article": (h.get("metadata") or {}).get("article")}
                      for h in state.get("hits") or []],
    }


def hit_record(hit: Hit) -> dict[str, Any]:
    """A retrieval Hit as plain state data: Hit.to_dict() plus its citation."""
    record = hit.to_dict()
    record["citation"] = hit.citation
    return record


def sources_of(hits: list[dict[str, Any]]) -> list[str]:
    """Distinct sources of the hits, in rank order."""
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(str(hit.get("source", "")), None)
    return [s for s in seen if s]
