"""Reasoning flows as a registry: the hybrid route runs the flow registered for the reasoning skill's kind."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from skillstack.agents import flows
from skillstack.agents.flows import reasoning_flow, register_flow
from skillstack.agents.lawyer.flow import LEGAL_CASE_EXAMPLES, build_lawyer_flow
from skillstack.agents.router import register_router
from skillstack.agents.routing_examples import reasoning_skill, route_examples
from skillstack.errors import ConfigError


def skill(kind: str, *examples: str) -> SimpleNamespace:
    return SimpleNamespace(manifest=SimpleNamespace(kind=kind, routing_examples=list(examples), description="",
                                                    system_prompt=""))


@pytest.fixture
def scratch_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flows (and routers) registered in a test stay in that test."""
    from skillstack.agents import router

    monkeypatch.setattr(flows._FLOWS, "entries", flows.registered_flows())
    monkeypatch.setattr(router._ROUTERS, "entries", router.registered_routers())


def test_the_lawyer_flow_is_registered_for_reasoning_skills_as_a_plugin_would_be():
    flow = reasoning_flow("reasoning")
    assert flow.build is build_lawyer_flow
    assert flow.routing_examples[:len(LEGAL_CASE_EXAMPLES)] == LEGAL_CASE_EXAMPLES
    assert len(flow.routing_examples) > len(LEGAL_CASE_EXAMPLES)  # plus the composed cases (lawyer/cases.py)


def test_an_unknown_kind_names_the_registered_kinds_and_what_to_do():
    with pytest.raises(ConfigError, match=r"kind 'astrology' \(registered: .*reasoning.*\).*register_flow"):
        reasoning_flow("astrology")


def test_a_bad_kind_a_non_callable_build_and_a_taken_kind_are_refused(scratch_flows):
    with pytest.raises(ConfigError, match="must match"):
        register_flow(kind="Tax Law", build=lambda parts: None, help="")
    with pytest.raises(ConfigError, match="must be callable"):
        register_flow(kind="tax", build="build", help="")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="already registered"):
        register_flow(kind="reasoning", build=lambda parts: None, help="")


def test_a_skill_of_a_second_registered_kind_becomes_the_hybrid_reasoner_with_its_flows_cases(scratch_flows):
    register_flow(kind="tax-reasoning", build=lambda parts: None, help="tax", routing_examples=["Is my bonus taxed twice?"])
    skills = {"brand-voice": skill("tone", "Reply to Maria."), "tax-advisor": skill("tax-reasoning", "VAT on a gift?")}
    assert reasoning_skill(skills) == "tax-advisor"
    hybrid = [text for label, text in route_examples(skills) if label == "hybrid:tax-advisor"]
    assert hybrid == ["VAT on a gift?", "Is my bonus taxed twice?"]


def test_the_graph_builds_its_hybrid_node_from_the_flow_of_the_reasoners_kind(scratch_flows, tmp_path):
    from langgraph.graph import START, StateGraph

    from skillstack.agents.state import GraphState
    from skillstack.graphs.graph import build_graph
    from skillstack.settings import load_settings

    built = []

    def build_tax_flow(parts):
        built.append(parts)
        flow = StateGraph(GraphState)
        flow.add_node("advise", lambda state: {"answer": "taxed once"})
        flow.add_edge(START, "advise")
        return flow.compile()

    register_flow(kind="tax-reasoning", build=build_tax_flow, help="tax")
    register_router(name="unit-stub", build=lambda settings, skills: SimpleNamespace(), help="no routing at all")
    skills = {"tax-advisor": skill("tax-reasoning")}
    graph = build_graph(load_settings(tmp_path, router="unit-stub"), skills=skills)
    assert "hybrid" in graph.nodes
    assert len(built) == 1 and dict(built[0].skills) == skills
    assert built[0].retry is not None and callable(built[0].chat)
