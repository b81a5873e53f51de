"""The meta-agent graph, written like its diagram:

    router -> rag | skill | hybrid | fallback -> answer
    hybrid  = issues -> retrieve -> reason -> citation_gate -> (reason once more | done)

`build_graph(settings)` returns the uncompiled StateGraph; `compile_graph` adds a checkpointer.
Skills are discovered and the router is built when the graph is built, so a skill folder added or
removed shows up at the next build. Models and the store are opened on first use and then shared.
Not here: the routing logic (agents/router.py), the citation gate (agents/lawyer.py), prompts.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any

from skillstack.agents.lawyer import (
    articles_for_prompt,
    check_citations,
    hit_record,
    identify_issues,
    merge_hits,
)
from skillstack.agents.prompts import IRAC_SYSTEM, citation_correction, legal_reasoner_messages
from skillstack.agents.router import build_router
from skillstack.agents.state import FALLBACK, GraphState, sources_of
from skillstack.settings import Settings
from skillstack.skills.grounded_decoding import grounded
from skillstack.skills.grounding import Grounding

from .retry import retry_policy

RAG_K = 5
ISSUE_K = 4
MAX_ARTICLES = 4
MAX_REASONING_ATTEMPTS = 2  # the first draft plus one regeneration, then the answer is flagged unverified


def timed(name: str, node: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Wrap a node so its update also records how long it took (state['timings'])."""

    @functools.wraps(node)
    def run(state: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        update = node(state)
        return {**update, "timings": [{"node": name, "seconds": time.perf_counter() - started, "id": uuid.uuid4().hex}]}

    return run


def _checkpointer_present() -> bool:
    """Whether this run has a checkpointer, i.e. whether an interrupt can be resumed later."""
    from langgraph.config import get_config
    from langgraph.constants import CONFIG_KEY_CHECKPOINTER

    try:
        return get_config().get("configurable", {}).get(CONFIG_KEY_CHECKPOINTER) is not None
    except RuntimeError:  # called outside a graph run
        return False


class Nodes:
    """The graph's nodes, sharing one router, one retriever and one skill runtime per build."""

    def __init__(self, settings: Settings, skills: dict[str, Any], *, max_tokens: int | None = None) -> None:
        self.settings = settings
        self.skills = skills
        self.max_tokens = max_tokens
        self.router = build_router(settings, skills)
        self._retriever: Any = None

    @property
    def retriever(self) -> Any:
        if self._retriever is None:
            from skillstack.retrieval.retriever import Retriever

            self._retriever = Retriever(self.settings, embedder=getattr(self.router, "embedder", None))
        return self._retriever

    def _chat(self, name: str = "base") -> Any:
        """A skill's chat model, or for "base" the default chat model (OpenAI when configured, else local)."""
        from skillstack.skills.runtime import chat_model, default_chat_model

        if name == "base":
            model = default_chat_model(self.settings)
            if getattr(model, "skill", None) != "base":  # an OpenAI model: its own limits apply
                return model
        return chat_model(self.settings, name, max_tokens=self.max_tokens)

    # router -> ...
    def route(self, state: GraphState) -> dict[str, Any]:
        decision = self.router.route(state["task"])
        return {"route": decision.route, "skill": decision.skill, "confidence": decision.confidence,
                "reason": decision.reason}

    # ... -> rag
    def rag(self, state: GraphState) -> dict[str, Any]:
        from skillstack.retrieval.answer import answer_question

        hits = self.retriever.search(state["task"], k=RAG_K)
        result = answer_question(state["task"], hits, self._chat("base"))
        records = [hit_record(hit) for hit in hits]
        gate = check_citations(result["answer"], records)
        return {"hits": records, "answer": result["answer"], "citations": gate.citations,
                "sources": list(result.get("sources") or sources_of(records)), "verified": gate.ok}

    # ... -> skill
    def skill(self, state: GraphState) -> dict[str, Any]:
        from langchain_core.messages import HumanMessage

        # The runtime adds the skill's system prompt and, for JSON skills, constrains and validates the output.
        message = self._chat(state["skill"]).invoke([HumanMessage(state["task"])])
        output = str(message.content)
        parsed = message.response_metadata.get("parsed")
        return {"skill_output": {"skill": state["skill"], "output": output, "parsed": parsed}, "answer": output,
                "citations": [], "sources": []}

    # ... -> hybrid: issues -> retrieve -> reason -> citation_gate
    def issues(self, state: GraphState) -> dict[str, Any]:
        return {"issues": identify_issues(state["task"]), "attempts": 0, "correction": None}

    def retrieve(self, state: GraphState) -> dict[str, Any]:
        results = [[hit_record(h) for h in self.retriever.search(issue, k=ISSUE_K)] for issue in state["issues"]]
        hits = merge_hits(results, limit=2 * MAX_ARTICLES)
        return {"hits": hits, "sources": sources_of(hits)}

    def reason(self, state: GraphState) -> dict[str, Any]:
        from langchain_core.messages import convert_to_messages

        name = state["skill"]  # "base" too, to compare the skill with the base model on the same flow
        # A skill trained with IRAC_SYSTEM carries it as its manifest system prompt, which the runtime prepends.
        skill = self.skills.get(name)
        system = None if skill is not None and skill.manifest.system_prompt else IRAC_SYSTEM
        articles = articles_for_prompt(state["hits"])[:MAX_ARTICLES]
        messages = legal_reasoner_messages(state["task"], articles, system=system, correction=state.get("correction"))
        # Locally, decoding cites only the articles shown and quotes only them or the facts (the gate still checks).
        grounding = Grounding.of((a["article"] for a in articles), [*(a["text"] for a in articles), state["task"]])
        draft = str(grounded(self._chat(name), grounding).invoke(convert_to_messages(messages)).content)
        return {"draft": draft, "attempts": state.get("attempts", 0) + 1}

    def citation_gate(self, state: GraphState) -> dict[str, Any]:
        gate = check_citations(state["draft"], state["hits"], facts=state["task"])
        if gate.ok or state["attempts"] >= MAX_REASONING_ATTEMPTS:
            return {"answer": state["draft"], "citations": gate.citations, "verified": gate.ok,
                    "skill_output": {"skill": state["skill"], "output": state["draft"], "parsed": None},
                    "correction": None if gate.ok else gate.problem}
        return {"correction": citation_correction(gate.unknown_articles, gate.bad_quotes, gate.allowed_articles)}

    # ... -> fallback
    def fallback(self, state: GraphState) -> dict[str, Any]:
        from langgraph.types import interrupt

        if _checkpointer_present() and not state.get("clarified"):
            reply = interrupt({"question": "I am not sure what this task needs. Is it a question about your documents, "
                                           "a reply or report in one of the skills' formats, or a legal analysis of a case?",
                               "reason": state.get("reason", ""), "skills": sorted(self.skills)})
            return {"task": f"{state['task']}\n{reply}", "clarified": True}
        from langchain_core.messages import HumanMessage

        answer = str(self._chat("base").invoke([HumanMessage(state["task"])]).content)
        return {"answer": answer, "citations": [], "sources": [], "skill": None}

    # ... -> answer
    def answer(self, state: GraphState) -> dict[str, Any]:
        answer = (state.get("answer") or "").strip()
        if state.get("route") == "hybrid" and state.get("verified") is False:
            answer += f"\n\n[unverified: the citation check failed ({state.get('correction') or 'see citations'})]"
        return {"answer": answer}


def after_router(state: GraphState) -> str:
    return state["route"] if state["route"] in ("rag", "skill", "hybrid") else FALLBACK


def after_gate(state: GraphState) -> str:
    # The gate sets `verified` only when it lets the draft through (passed, or out of attempts).
    return "done" if state.get("verified") is not None else "reason"


def after_fallback(state: GraphState) -> str:
    return "answer" if state.get("answer") is not None else "router"


def build_lawyer_graph(nodes: Nodes) -> Any:
    """The hybrid flow as its own small graph (a subgraph node of the meta-agent)."""
    from langgraph.graph import END, START, StateGraph

    retry = retry_policy()
    flow = StateGraph(GraphState)
    flow.add_node("issues", timed("issues", nodes.issues))
    flow.add_node("retrieve", timed("retrieve", nodes.retrieve), retry_policy=retry)
    flow.add_node("reason", timed("reason", nodes.reason), retry_policy=retry)
    flow.add_node("citation_gate", timed("citation_gate", nodes.citation_gate))
    flow.add_edge(START, "issues")
    flow.add_edge("issues", "retrieve")
    flow.add_edge("retrieve", "reason")
    flow.add_edge("reason", "citation_gate")
    flow.add_conditional_edges("citation_gate", after_gate, {"reason": "reason", "done": END})
    return flow.compile()


def build_graph(settings: Settings, *, skills: dict[str, Any] | None = None, max_tokens: int | None = None) -> Any:
    """The meta-agent as an uncompiled StateGraph over the skills discovered now (or the ones given).

    max_tokens caps every generation (None: each skill's manifest default).
    """
    from langgraph.graph import END, START, StateGraph

    if skills is None:
        from skillstack.skills.registry import discover_skills

        skills = discover_skills(settings).skills
    nodes = Nodes(settings, dict(skills), max_tokens=max_tokens)
    retry = retry_policy()
    graph = StateGraph(GraphState)
    graph.add_node("router", timed("router", nodes.route))
    graph.add_node("rag", timed("rag", nodes.rag), retry_policy=retry)
    graph.add_node("skill", timed("skill", nodes.skill), retry_policy=retry)
    graph.add_node("hybrid", build_lawyer_graph(nodes))
    graph.add_node(FALLBACK, timed(FALLBACK, nodes.fallback), retry_policy=retry)
    graph.add_node("answer", nodes.answer)

    graph.add_edge(START, "router")
    graph.add_conditional_edges("router", after_router, ["rag", "skill", "hybrid", FALLBACK])
    graph.add_edge("rag", "answer")
    graph.add_edge("skill", "answer")
    graph.add_edge("hybrid", "answer")
    graph.add_conditional_edges(FALLBACK, after_fallback, ["answer", "router"])
    graph.add_edge("answer", END)
    return graph


def compile_graph(settings: Settings, *, checkpointer: Any = None, skills: dict[str, Any] | None = None,
                  max_tokens: int | None = None) -> Any:
    """build_graph(settings).compile() with an optional checkpointer (any LangGraph BaseCheckpointSaver)."""
    return build_graph(settings, skills=skills, max_tokens=max_tokens).compile(checkpointer=checkpointer, name="skillstack")
