"""Routing feedback without models: what is recorded, what is refused, and how a bad file is reported."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest

from skillstack.agents.route_feedback import (
    MAX_TEXT_CHARS,
    feedback_path,
    last_routed,
    read_feedback,
    record_feedback,
    remember_last,
)
from skillstack.errors import InputError
from skillstack.settings import Settings


def skill(kind: str) -> SimpleNamespace:
    return SimpleNamespace(manifest=SimpleNamespace(kind=kind, routing_examples=[], description=""))


SKILLS = {"brand-voice": skill("tone"), "legal-reasoner": skill("reasoning")}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path)


def test_feedback_is_appended_as_one_json_line_and_read_back(settings):
    record_feedback(settings, "  Reply to Hannah please ", "skill", "brand-voice", SKILLS)
    item = record_feedback(settings, "My landlord kept the deposit. Lawful?", "hybrid", None, SKILLS)
    assert item.skill == "legal-reasoner"  # hybrid's skill is the reasoning skill
    lines = feedback_path(settings).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["route"] for line in lines] == ["skill", "hybrid"]
    assert [(f.label, f.text) for f in read_feedback(settings)] == [
        ("skill:brand-voice", "Reply to Hannah please"), ("hybrid:legal-reasoner", "My landlord kept the deposit. Lawful?")]


@pytest.mark.parametrize(("route", "skill_name", "message"), [
    ("oracle", None, "route must be one of rag, skill, hybrid, fallback"),
    ("skill", None, "needs --skill NAME"),
    ("skill", "nope", "no skill 'nope'"),
    ("skill", "legal-reasoner", "no skill 'legal-reasoner'"),  # the reasoner is the hybrid route's, not a skill route
    ("rag", "brand-voice", "takes no skill"),
])
def test_a_route_or_skill_the_graph_does_not_have_is_refused_and_nothing_is_written(settings, route, skill_name, message):
    with pytest.raises(InputError, match=message):
        record_feedback(settings, "some task", route, skill_name, SKILLS)
    assert not feedback_path(settings).exists()


@pytest.mark.parametrize(("text", "message"), [
    ("   ", "empty"), ("x" * (MAX_TEXT_CHARS + 1), "more than"), ("hi\x00there", "control characters")])
def test_hostile_or_empty_texts_are_refused(settings, text, message):
    with pytest.raises(InputError, match=message):
        record_feedback(settings, text, "rag", None, SKILLS)
    assert not feedback_path(settings).exists()


def test_hybrid_feedback_without_a_reasoning_skill_is_refused(settings):
    with pytest.raises(InputError, match="needs a reasoning skill"):
        record_feedback(settings, "a case", "hybrid", None, {"brand-voice": skill("tone")})


def test_concurrent_writers_lose_no_line(settings):
    threads = [threading.Thread(target=record_feedback, args=(settings, f"task {i}", "rag", None, SKILLS))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(f.text for f in read_feedback(settings)) == sorted(f"task {i}" for i in range(8))


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "not JSON"), ("[1, 2]", "must be an object"),
    ('{"text": "x", "route": "oracle"}', "route must be one of"), ('{"text": "", "route": "rag"}', "empty")])
def test_a_bad_feedback_line_is_one_error_naming_file_and_line(settings, line, message):
    feedback_path(settings).write_text('{"text": "fine", "route": "rag", "skill": null}\n' + line + "\n")
    with pytest.raises(InputError, match=rf"router_feedback.jsonl:2: .*{message}"):
        read_feedback(settings)


def test_the_last_routed_task_is_kept_for_feedback_without_text(settings):
    with pytest.raises(InputError, match="no routed task"):
        last_routed(settings)
    remember_last(settings, "Reply to Ken", {"route": "rag", "skill": None})
    assert last_routed(settings) == "Reply to Ken"
