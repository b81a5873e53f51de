"""Router logic without models: example labelling, corpus and case examples, the classifier, calibration, the fallback."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from skillstack.agents.flows import reasoning_flow
from skillstack.agents.lawyer.cases import composed_cases
from skillstack.agents.route_classifier import expected_calibration_error, fit_route_model, request_view
from skillstack.agents.router import decide, fit_temperature, softmax
from skillstack.agents.routing_examples import (
    KNOWLEDGE_EXAMPLES,
    OUT_OF_SCOPE_EXAMPLES,
    heading_topics,
    parse_label,
    route_examples,
    title_questions,
)


def skill(kind: str, *examples: str) -> SimpleNamespace:
    return SimpleNamespace(manifest=SimpleNamespace(kind=kind, routing_examples=list(examples), description=""))


def test_reasoning_skill_examples_and_legal_cases_label_the_hybrid_route():
    pairs = route_examples({"brand-voice": skill("tone", "Reply to Maria."), "legal-reasoner": skill("reasoning", "Case: x.")})
    labels = {label for label, _ in pairs}
    assert labels == {"rag", "skill:brand-voice", "hybrid:legal-reasoner", "fallback"}
    assert ("hybrid:legal-reasoner", "Case: x.") in pairs
    cases = len(reasoning_flow("reasoning").routing_examples)
    assert sum(label == "hybrid:legal-reasoner" for label, _ in pairs) == 1 + cases


def test_without_a_reasoning_skill_there_is_no_hybrid_route():
    labels = {label for label, _ in route_examples({"brand-voice": skill("tone", "Reply.")})}
    assert labels == {"rag", "skill:brand-voice", "fallback"}
    assert len(route_examples({})) == len(KNOWLEDGE_EXAMPLES) + len(OUT_OF_SCOPE_EXAMPLES)


def test_removing_a_skill_removes_its_route():
    with_json = {"brand-voice": skill("tone", "a"), "agent-status-json": skill("format", "b")}
    assert "skill:agent-status-json" in {l for l, _ in route_examples(with_json)}
    del with_json["agent-status-json"]
    assert "skill:agent-status-json" not in {l for l, _ in route_examples(with_json)}


def test_parse_label_splits_route_and_skill():
    assert parse_label("skill:brand-voice") == ("skill", "brand-voice")
    assert parse_label("rag") == ("rag", None)


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


def test_corpus_titles_and_headings_become_knowledge_questions_without_numbers_only_titles():
    metadatas = [{"title": "Deposits", "context": "Part II Tenancies"}, {"title": "Recital 12"},
                 {"title": "Right to erasure ('right to be forgotten')", "context": "CHAPTER III Rights / Section 3 \u2014 Erasure"},
                 {"title": "Deposits"}]
    topics = heading_topics(metadatas)
    assert topics == ["Tenancies", "Deposits", "Rights", "Erasure", "Right to erasure ('right to be forgotten')"]
    questions = title_questions(topics[:2], per_title=3)
    assert len(questions) == 6 and len(set(questions)) == 6
    assert all("tenancies" in q for q in questions[:3]) and all("deposits" in q for q in questions[3:])
    pairs = route_examples({}, topics=topics)
    assert sum(label == "rag" for label, _ in pairs) == len(KNOWLEDGE_EXAMPLES) + 3 * len(topics)


def test_composed_cases_are_distinct_reproducible_and_name_no_law():
    cases = composed_cases(60)
    assert len(set(cases)) == 60 and cases == composed_cases(60)
    assert not any(re.search(r"gdpr|regulation|\bcode\b|\bact\b|article \d", case.lower()) for case in cases)
    assert all(case.rstrip().endswith(("?", ".")) for case in cases)


def test_feedback_labels_join_the_examples_only_for_routes_that_exist():
    pairs = route_examples({"brand-voice": skill("tone", "Reply.")},
                           feedback=[("rag", "what is the rent cap"), ("skill:gone", "x"), ("fallback", "hey")])
    assert ("rag", "what is the rent cap") in pairs and ("fallback", "hey") in pairs
    assert not any(label == "skill:gone" for label, _ in pairs)


def test_request_view_hides_quoted_messages_but_keeps_the_request():
    assert request_view("Reply to Hannah: 'I moved house and the form says error 500.'") == 'Reply to Hannah: "..."'
    assert request_view("Is it 'ok'?") == "Is it 'ok'?"  # short quotes are words, not a message


def test_route_model_learns_separable_labels_with_calibrated_out_of_fold_confidence():
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 1, (3, 16))
    truth = rng.integers(0, 3, 300)
    rows = centres[truth] + rng.normal(0, 0.8, (300, 16))
    labels = [("rag", "skill:a", "hybrid:b")[t] for t in truth]
    model = fit_route_model(rows[:200], labels[:200])
    probs = model.probabilities(rows[200:])
    predicted = [model.classes[i] for i in probs.argmax(1)]
    correct = [p == l for p, l in zip(predicted, labels[200:])]
    assert np.mean(correct) > 0.8
    assert expected_calibration_error(probs.max(1), correct) < 0.1


def test_expected_calibration_error_is_zero_when_confidence_matches_accuracy():
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0, 1.0], [False, False]) == pytest.approx(1.0)


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


def test_the_clarifying_question_names_the_two_routes_the_router_hesitated_between():
    from skillstack.graphs.graph import clarifying_question

    question = clarifying_question(["rag", "hybrid:legal-reasoner"])
    assert "from your documents" in question and "legal analysis" in question and "legal-reasoner" in question
    assert "skills' formats" in clarifying_question([])
