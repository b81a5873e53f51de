"""skillstack.agents.tools on the demo store and the bundled skills: what a user's agent gets to call."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TASKS = {row["route"] + (f"/{row['skill']}" if row["route"] == "skill" else ""): row["text"]
         for row in map(json.loads, (REPO / "demo" / "tasks.jsonl").read_text().splitlines())}


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory):
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    settings = load_settings(tmp_path_factory.mktemp("tools-home"))
    ingest_paths(settings, [REPO / "demo" / "docs"], progress=False)
    return settings


@pytest.fixture(scope="module")
def tools(demo_settings):
    from skillstack.agents.tools import build_tools

    return {tool.name: tool for tool in build_tools(demo_settings, max_tokens=96)}


def test_the_build_offers_search_every_skill_and_the_case_analysis(tools):
    assert set(tools) == {"search_knowledge", "agent-status-json", "brand-voice", "legal-reasoner", "support-classifier",
                          "analyse_case"}
    assert tools["brand-voice"].description.startswith("Replies to bank customers in Lumen Bank's support voice")
    assert set(tools["search_knowledge"].args) == {"query", "k", "filters"}


def test_search_knowledge_returns_k_cited_passages_and_honours_filters(tools):
    passages = tools["search_knowledge"].invoke({"query": "How much deposit may a landlord ask for?", "k": 2})
    assert len(passages) == 2
    assert all(p["text"] and p["citation"]["source"] for p in passages)
    article = passages[0]["citation"]["article"]
    filtered = tools["search_knowledge"].invoke({"query": "deposit", "k": 3, "filters": {"article": article}})
    assert filtered and all(p["citation"]["article"] == article for p in filtered)


def test_search_knowledge_refuses_a_bad_k_through_the_tool_schema(tools):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        tools["search_knowledge"].invoke({"query": "deposit", "k": 0})


def test_a_json_skill_tool_returns_the_parsed_schema_valid_object(tools, demo_settings):
    import jsonschema

    from skillstack.skills.registry import discover_skills

    result = tools["agent-status-json"].invoke({"task": TASKS["skill/agent-status-json"]})
    assert isinstance(result, dict)
    jsonschema.validate(result, discover_skills(demo_settings).skills["agent-status-json"].schema)


def test_a_text_skill_tool_answers_in_words_and_reports_through_a_tool_message(tools):
    message = tools["brand-voice"].invoke({"name": "brand-voice", "args": {"task": TASKS["skill/brand-voice"]},
                                           "id": "call_1", "type": "tool_call"})
    assert message.tool_call_id == "call_1" and isinstance(message.content, str) and message.content.strip()


def test_analyse_case_runs_the_hybrid_flow_with_verified_citations(tools):
    result = tools["analyse_case"].invoke({"facts": TASKS["hybrid"]})
    assert set(result) == {"answer", "citations", "sources", "verified"} and result["answer"].strip()
    assert isinstance(result["verified"], bool)


def test_a_skill_folder_added_gives_a_new_tool_at_the_next_build(demo_settings):
    from skillstack.agents.tools import build_tools

    folder = demo_settings.user_skills_dir / "haiku-writer"
    folder.mkdir(parents=True)
    (folder / "skill.toml").write_text(
        'version = 1\nname = "haiku-writer"\nkind = "tone"\nbackend = "openai-compatible"\n'
        'base_url = "http://127.0.0.1:9/v1"\nmodel = "haiku"\ndescription = "Writes haiku."\n', encoding="utf-8")
    try:
        added = {tool.name: tool for tool in build_tools(demo_settings)}
        assert added["haiku-writer"].description.startswith("Writes haiku.")
    finally:
        shutil.rmtree(folder)
    assert "haiku-writer" not in {tool.name for tool in build_tools(demo_settings)}
