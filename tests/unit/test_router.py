"""Router logic without models: example labelling, per-route scores, calibration and the fallback."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from skillstack.agents.lawyer.flow import LEGAL_CASE_EXAMPLES
from skillstack.agents.router import (
    KNOWLEDGE_EXAMPLES,
    decide,
    fit_temperature,
    label_scores,
    leave_one_out_scores,
    parse_label,
    route_examples,
    softmax,
)


def skill(kind: str, *examples: str) -> SimpleNamespace:
    return SimpleNamespace(manifest=SimpleNamespace(kind=kind, routing_examples=list(examples), description=""))


def test_reasoning_skill_examples_and_legal_cases_label_the_hybrid_route():
    pairs = route_examples({"brand-voice": skill("tone", "Reply to Maria."), "legal-reasoner": skill("reasoning", "Case: x.")})
    labels = {label for label, _ in pairs}
    assert labels == {"rag", "skill:brand-voice", "hybrid:legal-reasoner"}
    assert ("hybrid:legal-reasoner", "Case: x.") in pairs
    assert sum(label == "hybrid:legal-reasoner" for label, _ in pairs) == 1 + len(LEGAL_CASE_EXAMPLES)


def test_without_a_reasoning_skill_there_is_no_hybrid_route():
    labels = {label for label, _ in route_examples({"brand-voice": skill("tone", "Reply.")})}
    assert labels == {"rag", "skill:brand-voice"}
    assert len(route_examples({})) == len(KNOWLEDGE_EXAMPLES)


def test_removing_a_skill_removes_its_route():
    with_json = {"brand-voice": skill("tone", "a"), "agent-status-json": skill("format", "b")}
    assert "skill:agent-status-json" in {l for l, _ in route_examples(with_json)}
    del with_json["agent-status-json"]
    assert "skill:agent-status-json" not in {l for l, _ in route_examples(with_json)}


def test_parse_label_splits_route_and_skill():
    assert parse_label("skill:brand-voice") == ("skill", "brand-voice")
    assert parse_label("rag") == ("rag", None)


def test_label_score_is_mean_of_top_k_similarities_per_label():
    sims = np.array([0.9, 0.1, 0.8, 0.3, 0.2])
    labels = ["a", "a", "a", "b", "b"]
    assert np.allclose(label_scores(sims, labels, ["a", "b"], top_k=2), [0.85, 0.25])


def test_fitted_temperature_sharpens_separable_scores_and_softens_noisy_ones():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 200)
    clean = rng.normal(0.3, 0.02, (200, 3))
    clean[np.arange(200), truth] += 0.3
    noisy = rng.normal(0.3, 0.1, (200, 3))
    noisy[np.arange(200), truth] += 0.03
    assert fit_temperature(clean, truth) < fit_temperature(noisy, truth)


def test_fitted_confidence_is_calibrated_on_held_out_scores():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 4, 4000)
    rows = rng.normal(0.0, 0.1, (4000, 4))
    rows[np.arange(4000), truth] += 0.12
    t = fit_temperature(rows[:2000], truth[:2000])
    probs = softmax(rows[2000:], t)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == truth[2000:]
    assert abs(confidence.mean() - correct.mean()) < 0.03


def test_leave_one_out_never_scores_an_example_against_itself():
    vectors = np.eye(4)
    rows = leave_one_out_scores(vectors @ vectors.T, ["a", "a", "b", "b"], ["a", "b"], top_k=1)
    assert np.allclose(rows, 0.0)


def test_confident_decision_names_route_and_skill():
    decision = decide(np.array([0.2, 0.8]), ["rag", "skill:brand-voice"], temperature=0.05, threshold=0.45)
    assert (decision.route, decision.skill) == ("skill", "brand-voice")
    assert decision.confidence > 0.99
    assert set(decision.to_dict()) == {"route", "skill", "confidence", "reason"}


def test_unsure_decision_falls_back_and_names_its_best_guess():
    decision = decide(np.array([0.50, 0.51, 0.5]), ["rag", "skill:a", "hybrid:b"], temperature=0.5, threshold=0.45)
    assert decision.route == "fallback" and decision.skill is None
    assert "skill:a" in decision.reason and decision.confidence < 0.45


def test_an_unknown_router_setting_names_the_registered_routers():
    from skillstack.agents.router import build_router
    from skillstack.errors import ConfigError
    from skillstack.settings import Settings

    with pytest.raises(ConfigError, match=r"setting 'router' must be one of embedding, llm.*got 'oracle'"):
        build_router(Settings(router="oracle"), {})


def test_a_registered_router_is_built_by_its_name_and_a_taken_name_is_refused(monkeypatch):
    from skillstack.agents import router
    from skillstack.agents.router import build_router, register_router, registered_routers
    from skillstack.errors import ConfigError
    from skillstack.settings import Settings

    monkeypatch.setattr(router._ROUTERS, "entries", registered_routers())  # the test's router stays in the test

    stub = SimpleNamespace(route=lambda text: None)
    register_router(name="unit-fixed", build=lambda settings, skills: stub, help="always the same router")
    assert build_router(Settings(router="unit-fixed"), {}) is stub
    assert {"embedding", "llm", "unit-fixed"} <= set(registered_routers())
    with pytest.raises(ConfigError, match="already registered"):
        register_router(name="embedding", build=lambda settings, skills: stub, help="")
