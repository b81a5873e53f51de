"""The meta-agent graph's state: the task, the route decision, retrieved chunks, skill outputs, the answer.

Also the reducers that merge node updates and the projection to the public `ask` result.
Not here: how any of it is computed (router.py, lawyer.py, graphs/graph.py).
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

ROUTES = ("rag", "skill", "hybrid")
FALLBACK = "fallback"


def add_timings(left: dict[str, float] | None, right: dict[str, float] | None) -> dict[str, float]:
    """Per-node seconds; a node that runs twice (a regeneration) adds up."""
    merged = dict(left or {})
    for node, seconds in (right or {}).items():
        merged[node] = merged.get(node, 0.0) + seconds
    return merged


class GraphState(TypedDict, total=False):
    task: str
    # The route decision: route is one of ROUTES, or FALLBACK when the router is unsure.
    route: str
    skill: str | None
    confidence: float
    reason: str
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
    timings: Annotated[dict[str, float], add_timings]


def public_result(state: dict[str, Any]) -> dict[str, Any]:
    """What `skillstack ask --json` prints: the contract keys, then the decision details."""
    return {
        "route": state.get("route"),
        "skill": state.get("skill"),
        "answer": state.get("answer", ""),
        "citations": list(state.get("citations") or []),
        "sources": list(state.get("sources") or []),
        "confidence": state.get("confidence"),
        "reason": state.get("reason", ""),
        "verified": state.get("verified"),
        "parsed": (state.get("skill_output") or {}).get("parsed"),
    }


def sources_of(hits: list[dict[str, Any]]) -> list[str]:
    """Distinct sources of the hits, in rank order."""
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(str(hit.get("source", "")), None)
    return [s for s in seen if s]
