"""The lawyer flow, the hybrid route's subgraph for reasoning skills of kind "reasoning":

    issues -> retrieve (per issue, fused) -> reason (IRAC) -> citation_gate -> (reason once more | done)

Its pure steps (the issues to research, the hits of all of them fused, those hits grouped into whole
articles for the prompt), its nodes, and `build_lawyer_flow`, registered with register_flow as a plugin's
flow would be. Not here: the citation gate's verdict (gate.py), the prompt (prompts.py), the meta-graph.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from skillstack.agents.flows import FlowParts, register_flow
from skillstack.agents.state import GraphState, hit_record, sources_of, timed
from skillstack.retrieval.fusion import reciprocal_rank_fusion
from skillstack.skills.grounded_decoding import grounded
from skillstack.skills.grounding import Grounding

from .cases import composed_cases
from .citations import flatten, normalise_article
from .deadlines import deadline_findings
from .gate import check_citations
from .prompts import IRAC_SYSTEM, citation_correction, legal_reasoner_messages

ISSUE_K = 4  # hits per issue
MAX_ARTICLES = 4  # articles in the prompt
MAX_REASONING_ATTEMPTS = 2  # the first draft plus one regeneration, then the answer is flagged unverified
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")

# Fact patterns that ask for a legal analysis (the router's hybrid examples): retrieved law plus legal reasoning.
LEGAL_CASE_EXAMPLES = (
    "My landlord kept my whole deposit for a scratched floor and never sent an inspection report. Is that lawful?",
    "A hospital emailed patient records to the wrong recipient and waited a week to tell anyone. Analyse its liability.",
    "Our tenant subleased the flat on a holiday website without asking us. Can we end the lease?",
    "A shop installed cameras in the staff changing room. Which rules did it break and what follows?",
    "The landlord raised the rent by 30% with two weeks' notice. Advise the tenant.",
    "An app shares users' locations with advertisers without asking them. Assess whether this is legal.",
    "A customer asked a company to delete her data and it refused without reason. Analyse the case under the law.",
    "The heating broke in January and the landlord ignored repair requests for a month; the tenant withheld rent. Who is right?",
    "Case: an employer read employees' private messages on work laptops. Apply the relevant articles.",
    "Facts: a tenant was evicted without a court order after missing one payment. Write an IRAC analysis.",
)


def identify_issues(facts: str, *, max_issues: int = 4, min_words: int = 4) -> list[str]:
    """The questions to research: the whole case first, then each substantial sentence of it.

    Deterministic on purpose: a 135M-parameter base model lists issues worse than the facts' own
    sentences do as retrieval queries, and this step then costs nothing.
    """
    whole = flatten(facts)
    issues = [whole] if whole else []
    for sentence in _SENTENCE.split(facts):
        sentence = flatten(sentence)
        if len(sentence.split()) >= min_words and sentence not in issues:
            issues.append(sentence)
        if len(issues) > max_issues:
            break
    return issues


def merge_hits(result_lists: Sequence[Sequence[dict[str, Any]]], *, limit: int) -> list[dict[str, Any]]:
    """Fuse the hits of several queries: a chunk found by more queries and at better ranks comes first (RRF)."""
    records: dict[str, dict[str, Any]] = {}
    rankings = []
    for results in result_lists:
        ranking = []
        for record in results:
            meta = record.get("metadata") or {}
            key = str(meta.get("chunk_id") or (record.get("source"), meta.get("article"), record.get("text")))
            records.setdefault(key, record)
            ranking.append(key)
        rankings.append(ranking)
    return [records[key] for key, _ in reciprocal_rank_fusion(rankings)[:limit]]


def articles_for_prompt(hits: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group retrieved chunks by (source, article) into whole articles for the IRAC prompt, best first."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for hit in hits:
        meta = hit.get("metadata") or {}
        article = meta.get("article")
        key = (str(hit.get("source", "")), normalise_article(article) if article not in (None, "") else f"chunk:{len(grouped)}")
        entry = grouped.setdefault(key, {"article": article, "title": meta.get("title", ""), "text": ""})
        entry["text"] = (entry["text"] + "\n" + str(hit.get("text", ""))).strip()
    return list(grouped.values())


class LawyerNodes:
    """The flow's nodes over one graph build's shared parts."""

    def __init__(self, parts: FlowParts) -> None:
        self.parts = parts

    def issues(self, state: GraphState) -> dict[str, Any]:
        return {"issues": identify_issues(state["task"]), "attempts": 0, "correction": None}

    def retrieve(self, state: GraphState) -> dict[str, Any]:
        results = [[hit_record(h) for h in self.parts.retriever.search(issue, k=ISSUE_K)] for issue in state["issues"]]
        hits = merge_hits(results, limit=2 * MAX_ARTICLES)
        return {"hits": hits, "sources": sources_of(hits)}

    def reason(self, state: GraphState) -> dict[str, Any]:
        from langchain_core.messages import convert_to_messages

        name = state["skill"]  # "base" too, to compare the skill with the base model on the same flow
        # A skill trained with IRAC_SYSTEM carries it as its manifest system prompt, which the runtime prepends.
        skill = self.parts.skills.get(name)
        system = None if skill is not None and skill.manifest.system_prompt else IRAC_SYSTEM
        articles = articles_for_prompt(state["hits"])[:MAX_ARTICLES]
        findings = ([f.sentence() for f in deadline_findings(state["task"], articles)]
                    if self.parts.settings.deadline_check else [])
        messages = legal_reasoner_messages(state["task"], articles, system=system, correction=state.get("correction"),
                                           findings=findings)
        # Locally, decoding cites only the articles shown and quotes only them or the facts (the gate still checks).
        grounding = Grounding.of((a["article"] for a in articles), [*(a["text"] for a in articles), state["task"]])
        draft = str(grounded(self.parts.chat(name), grounding).invoke(convert_to_messages(messages)).content)
        return {"draft": draft, "attempts": state.get("attempts", 0) + 1}

    def citation_gate(self, state: GraphState) -> dict[str, Any]:
        gate = check_citations(state["draft"], state["hits"], facts=state["task"])
        if gate.ok or state["attempts"] >= MAX_REASONING_ATTEMPTS:
            return {"answer": state["draft"], "citations": gate.citations, "verified": gate.ok,
                    "skill_output": {"skill": state["skill"], "output": state["draft"], "parsed": None},
                    "correction": None if gate.ok else gate.problem}
        return {"correction": citation_correction(gate.unknown_articles, gate.bad_quotes, gate.allowed_articles)}


def after_gate(state: GraphState) -> str:
    # The gate sets `verified` only when it lets the draft through (passed, or out of attempts).
    return "done" if state.get("verified") is not None else "reason"


def build_lawyer_flow(parts: FlowParts) -> Any:
    """The lawyer flow as a compiled subgraph (the meta-agent's hybrid node)."""
    from langgraph.graph import END, START, StateGraph

    nodes = LawyerNodes(parts)
    flow = StateGraph(GraphState)
    flow.add_node("issues", timed("issues", nodes.issues))
    flow.add_node("retrieve", timed("retrieve", nodes.retrieve), retry_policy=parts.retry)
    flow.add_node("reason", timed("reason", nodes.reason), retry_policy=parts.retry)
    flow.add_node("citation_gate", timed("citation_gate", nodes.citation_gate))
    flow.add_edge(START, "issues")
    flow.add_edge("issues", "retrieve")
    flow.add_edge("retrieve", "reason")
    flow.add_edge("reason", "citation_gate")
    flow.add_conditional_edges("citation_gate", after_gate, {"reason": "reason", "done": END})
    return flow.compile()


register_flow(kind="reasoning", build=build_lawyer_flow, routing_examples=(*LEGAL_CASE_EXAMPLES, *composed_cases()),
              help="IRAC legal analysis grounded in retrieved articles, behind a citation gate with one regeneration")
