"""The meta-agent graph, written like its diagram:

    intake -> router -> rag | skill | hybrid | fallback -> answer
    hybrid  = the reasoning flow registered for the reasoning skill's kind (agents/flows.py),
              e.g. the lawyer flow: issues -> retrieve -> reason -> citation_gate -> (reason once more | done)

`build_graph(settings)` returns the uncompiled StateGraph; `compile_graph` adds a checkpointer.
Input is `{"messages": [...]}` or `{"task": ...}` (agents/state.GraphInput); the answer is appended to
`messages` as an AIMessage; a run's RunContext can force the route or skill and cap max_tokens and k.
Skills are discovered and the router is built when the graph is built, so a skill folder added or
removed shows up at the next build. Models and the store are opened on first use and then shared.
Not here: the routing logic (agents/router.py), the reasoning flows (agents/lawyer/), prompts.
"""

from __future__ import annotations

from typing import Any

from skillstack.agents.flows import DEFAULT_KIND, reasoning_flow
from skillstack.agents.router import build_router, reasoning_skill
from skillstack.agents.state import (FALLBACK, ROUTES, GraphInput, GraphState, RunContext, answer_message, conversation,
                                     hit_record, intake, sources_of, timed)
from skillstack.errors import InputError
from skillstack.settings import Settings

from .retry import retry_policy

RAG_K = 5


def _checkpointer_present() -> bool:
    """Whether this run has a checkpointer, i.e. whether an interrupt can be resumed later."""
    from langgraph.config import get_config
    from langgraph.constants import CONFIG_KEY_CHECKPOINTER

    try:
        return get_config().get("configurable", {}).get(CONFIG_KEY_CHECKPOINTER) is not None
    except RuntimeError:  # called outside a graph run
        return False


def run_context() -> RunContext:
    """This run's RunContext (LangGraph builds it from a dict of its keys, refusing unknown ones); defaults without."""
    from langgraph.runtime import get_runtime

    try:
        context = get_runtime().context
    except RuntimeError:  # called outside a graph run
        context = None
    return context if isinstance(context, RunContext) else RunContext()


class Nodes:
    """The graph's nodes, sharing one router, one retriever and one skill runtime per build.

    Also the parts a reasoning flow is built from (agents.flows.FlowParts): skills, retriever, chat, retry, settings.
    """

    def __init__(self, settings: Settings, skills: dict[str, Any], *, max_tokens: int | None = None) -> None:
        self.settings = settings
        self.skills = skills
        self.max_tokens = max_tokens
        self.retry = retry_policy()
        self.router = build_router(settings, skills)
        self._retriever: Any = None

    @property
    def retriever(self) -> Any:
        if self._retriever is None:
            from skillstack.retrieval.retriever import Retriever

            # The embedder comes from its one owner (get_embedder, once per process), the router's as well.
            self._retriever = Retriever(self.settings)
        return self._retriever

    def chat(self, name: str = "base") -> Any:
        """A skill's chat model, or for "base" the default chat model (OpenAI when configured, else local)."""
        from skillstack.skills.chat_model import SkillChatModel
        from skillstack.skills.runtime import chat_model, default_chat_model

        if name == "base":
            model = default_chat_model(self.settings)
            if not isinstance(model, SkillChatModel):  # an OpenAI model: its own limits apply
                return model
        return chat_model(self.settings, name, max_tokens=run_context().max_tokens or self.max_tokens)

    # router -> ...
    def route(self, state: GraphState) -> dict[str, Any]:
        context = run_context()
        if context.route or context.skill:
            return self.forced_route(context)
        decision = self.router.route(state["task"])
        return {"route": decision.route, "skill": decision.skill, "confidence": decision.confidence,
                "reason": decision.reason, "candidates": list(getattr(decision, "candidates", ()))}

    def forced_route(self, context: RunContext) -> dict[str, Any]:
        """The decision a run context imposes (route and/or skill), checked against the skills of this build."""
        route = context.route or "skill"
        if route not in ROUTES:
            raise InputError(f"run context: route must be one of {', '.join(ROUTES)}, got {route!r}")
        skill = context.skill or (reasoning_skill(self.skills) if route == "hybrid" else None)
        if route != "rag" and skill not in self.skills:
            raise InputError(f"run context: route {route!r} needs a skill; {skill!r} is not one of "
                             f"{', '.join(sorted(self.skills)) or 'none'}")
        return {"route": route, "skill": skill if route != "rag" else None, "confidence": 1.0,
                "reason": "forced by the run context"}

    # ... -> rag
    def rag(self, state: GraphState) -> dict[str, Any]:
        from skillstack.retrieval.answer import answer_question

        hits = self.retriever.search(state["task"], k=run_context().k or RAG_K)
        result = answer_question(state["task"], hits, self.chat("base"), mode=self.settings.rag_answer,
                                 embedder=self.retriever.embedder)
        records = [hit_record(hit) for hit in hits]
        # answer_question already kept only citations of retrieved articles: each one is verified.
        citations = [{"article": c["article"], "verified": True, "source": c["source"]} for c in result["citations"]]
        return {"hits": records, "answer": result["answer"], "citations": citations,
                "sources": list(result.get("sources") or sources_of(records)), "verified": bool(citations)}

    # ... -> skill
    def skill(self, state: GraphState) -> dict[str, Any]:
        # The runtime adds the skill's system prompt and, for JSON skills, constrains and validates the output.
        message = self.chat(state["skill"]).invoke(conversation(state))
        output = str(message.content)
        parsed = message.response_metadata.get("parsed")
        return {"skill_output": {"skill": state["skill"], "output": output, "parsed": parsed}, "answer": output,
                "citations": [], "sources": []}

    # ... -> fallback
    def fallback(self, state: GraphState) -> dict[str, Any]:
        from langgraph.types import interrupt

        if _checkpointer_present() and not state.get("clarified"):
            reply = interrupt({"question": clarifying_question(state.get("candidates") or []),
                               "reason": state.get("reason", ""), "skills": sorted(self.skills),
                               "candidates": list(state.get("candidates") or [])})
            return {"task": f"{state['task']}\n{reply}", "clarified": True}
        answer = str(self.chat("base").invoke(conversation(state)).content)
        return {"answer": answer, "citations": [], "sources": [], "skill": None}

    # ... -> answer
    def answer(self, state: GraphState) -> dict[str, Any]:
        answer = (state.get("answer") or "").strip()
        if state.get("route") == "hybrid" and state.get("verified") is False:
            answer += f"\n\n[unverified: the citation check failed ({state.get('correction') or 'see citations'})]"
        return {"answer": answer, "messages": [answer_message(state, answer)]}


# What each kind of route does, in the words of the clarifying question.
_ROUTE_WORDS = {"rag": "a question answered from your documents", "skill": "a {skill} task",
                "hybrid": "a legal analysis of a case (with {skill})"}


def clarifying_question(candidates: list[str]) -> str:
    """The fallback's question: the two routes the router hesitated between, or every kind of route."""
    options = []
    for label in candidates[:2]:
        route, _, skill = label.partition(":")
        if route in _ROUTE_WORDS:
            options.append(_ROUTE_WORDS[route].format(skill=skill))
    if len(options) == 2:
        return f"I am not sure what this task needs. Is it {options[0]}, or {options[1]}?"
    return ("I am not sure what this task needs. Is it a question about your documents, "
            "a reply or report in one of the skills' formats, or a legal analysis of a case?")


def after_router(state: GraphState) -> str:
    return state["route"] if state["route"] in ("rag", "skill", "hybrid") else FALLBACK


def after_fallback(state: GraphState) -> str:
    return "answer" if state.get("answer") is not None else "router"


def build_graph(settings: Settings, *, skills: dict[str, Any] | None = None, max_tokens: int | None = None) -> Any:
    """The meta-agent as an uncompiled StateGraph over the skills discovered now (or the ones given).

    max_tokens caps every generation (None: each skill's manifest default).
    """
    from langgraph.graph import END, START, StateGraph

    if skills is None:
        from skillstack.skills.registry import discover_skills

        skills = discover_skills(settings).skills
    nodes = Nodes(settings, dict(skills), max_tokens=max_tokens)
    reasoner = reasoning_skill(skills)
    hybrid = reasoning_flow(skills[reasoner].manifest.kind if reasoner else DEFAULT_KIND)
    graph = StateGraph(GraphState, input_schema=GraphInput, context_schema=RunContext)
    graph.add_node("intake", intake)
    graph.add_node("router", timed("router", nodes.route))
    graph.add_node("rag", timed("rag", nodes.rag), retry_policy=nodes.retry)
    graph.add_node("skill", timed("skill", nodes.skill), retry_policy=nodes.retry)
    graph.add_node("hybrid", hybrid.build(nodes))
    graph.add_node(FALLBACK, timed(FALLBACK, nodes.fallback), retry_policy=nodes.retry)
    graph.add_node("answer", nodes.answer)

    graph.add_edge(START, "intake")
    graph.add_edge("intake", "router")
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
