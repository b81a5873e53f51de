"""Synthetic data generation: templates (pure) and a teacher model reached through the real OpenAI SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.openai_cloud import BASE_REPLY, FakeOpenAICloud

from skillstack.cli.main import main
from skillstack.training.data.generate import fill, from_template, write_generated

TEMPLATE = {"system": "You are a courier.", "slots": {"item": ["parcel", "letter"], "city": ["Paris", "Lyon", "Nice"]},
            "examples": [{"user": "Where is my {item} to {city}?", "assistant": "Your {item} to {city} is on its way."},
                         {"user": "Track my {item}", "assistant": "Tracking your {item}."}]}


def test_template_crosses_slot_values_and_leaves_format_tricks_inert():
    examples = from_template(TEMPLATE, n=100, seed=1)
    assert len(examples) == 2 * 3 + 2
    users = {e["messages"][1]["content"] for e in examples}
    assert "Where is my letter to Nice?" in users and "Track my parcel" in users
    assert from_template(TEMPLATE, n=3, seed=1) == examples[:3]
    assert fill("{item.__class__} {0} {item}", {"item": "x"}) == "{item.__class__} {0} x"


def test_written_data_is_deduplicated_and_validated(tmp_path: Path):
    examples = from_template(TEMPLATE, n=100) * 2 + [{"messages": [{"role": "user", "content": "no answer"}]}]
    result = write_generated(examples, tmp_path / "out.jsonl")
    assert (result["written"], result["duplicates_dropped"], result["invalid_dropped"]) == (8, 8, 1)
    assert result["report"]["ok"] is False  # 8 examples: under OpenAI's minimum of 10, said plainly
    assert [e["code"] for e in result["report"]["errors"]] == ["too_few_examples"]


def test_cli_generate_from_template(tmp_path: Path, capsys, home):
    template = tmp_path / "t.json"
    template.write_text(json.dumps({**TEMPLATE, "slots": {**TEMPLATE["slots"], "city": [f"city {i}" for i in range(10)]}}))
    out = tmp_path / "gen.jsonl"
    assert main(["data", "generate", "--template", str(template), "-o", str(out), "--n", "15", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["written"] == 15 and result["report"]["ok"]


def test_cli_generate_with_an_openai_teacher(tmp_path: Path, capsys, home, monkeypatch: pytest.MonkeyPatch):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"text": f"question {i}"}) + "\n" for i in range(11)) + json.dumps({"text": "question 0"}) + "\n")
    with FakeOpenAICloud() as cloud:
        monkeypatch.setenv("OPENAI_API_KEY", cloud.api_key)
        monkeypatch.setenv("SKILLSTACK_OPENAI_BASE_URL", cloud.base_url)
        assert main(["data", "generate", "--prompts", str(prompts), "--teacher", "gpt-4o-mini", "--system", "Be kind.",
                     "-o", str(tmp_path / "gen.jsonl"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["written"], result["duplicates_dropped"]) == (11, 1) and result["report"]["ok"]
    first = json.loads((tmp_path / "gen.jsonl").read_text().splitlines()[0])
    assert first["messages"][0] == {"role": "system", "content": "Be kind."}
    assert first["messages"][-1] == {"role": "assistant", "content": BASE_REPLY}
