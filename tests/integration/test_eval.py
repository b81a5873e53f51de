"""`skillstack eval`: a skill (an OpenAI fine-tune served by the local fake cloud) against the real local base model."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from fakes.openai_cloud import FakeOpenAICloud

from skillstack.cli.main import main
from skillstack.settings import load_settings
from skillstack.training.eval_answers import Output
from skillstack.training.eval_card import EVAL_OUTPUTS_FILE, load_card
from skillstack.training.evaluate import as_sample, eval_items
from skillstack.training.openai_jobs import JobConfig, create_job, wait_for_job, write_openai_skill


def rows(numbers: range) -> list[dict]:
    return [{"messages": [{"role": "user", "content": f"Where is parcel {i}?"},
                          {"role": "assistant", "content": f"Arr, parcel {i} be sailing to ye!"}]} for i in numbers]


def write(path: Path, data: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    return path


def spec_file(path: Path, spec: dict) -> Path:
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_eval_items_take_the_last_assistant_message_as_reference():
    [(prompt, item)] = eval_items(rows(range(1)), "chat")
    assert prompt == [("user", "Where is parcel 0?")] and item["reference"] == "Arr, parcel 0 be sailing to ye!"
    [(prompt, item)] = eval_items([{"messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "2+2"}],
                                    "reference": "4"}], "reinforcement")
    assert prompt == [("system", "d"), ("user", "2+2")] and item["reference"] == "4"
    def answer(text: str, parsed=None) -> Output:
        return Output(text=text, parsed=parsed, prompt_tokens=0)

    assert as_sample(answer('{"a": 1}'))["output_json"] == {"a": 1} and as_sample(answer("hi"))["output_json"] is None
    assert as_sample(answer("{}", parsed={"b": 2}))["output_json"] == {"b": 2}  # the runtime's parse wins


@pytest.fixture
def pirate_skill(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAICloud() as cloud:
        monkeypatch.setenv("OPENAI_API_KEY", cloud.api_key)
        monkeypatch.setenv("SKILLSTACK_OPENAI_BASE_URL", cloud.base_url)
        settings = load_settings(home)
        job = create_job(settings, write(tmp_path / "train.jsonl", rows(range(12))),
                         JobConfig(model="gpt-4o-mini-2024-07-18", suffix="pirate"))
        folder = write_openai_skill(settings, wait_for_job(settings, job["id"], poll_interval=0))
        yield folder


@pytest.mark.slow
def test_eval_writes_the_card_and_promotes_a_skill_that_beats_base(pirate_skill: Path, tmp_path: Path, capsys):
    held_out = write(tmp_path / "held.jsonl", rows(range(100, 102)))
    grader = spec_file(tmp_path / "grader.json", {"type": "string_check", "name": "pirate", "input": "{{sample.output_text}}",
                                               "reference": "Arr,", "operation": "like"})
    assert main(["eval", "pirate", "--data", str(held_out), "--grader", str(grader), "--max-tokens", "4", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert {c["label"]: c["metrics"]["pirate"] for c in card["conditions"]} == {"skill": 1.0, "base": 0.0}
    assert card["promoted"] is True and card["version"] == 2
    saved = load_card(pirate_skill)
    assert saved.items == 2 and saved.scores() == {"skill": 1.0, "base": 0.0}
    rows_out = [json.loads(line) for line in (pirate_skill / EVAL_OUTPUTS_FILE).read_text().splitlines()]
    assert [(r["condition"], r["line"]) for r in rows_out] == [("skill", 1), ("skill", 2), ("base", 1), ("base", 2)]
    assert "promoted" in (pirate_skill / "EVAL.md").read_text()
    provenance = tomllib.loads((pirate_skill / "skill.toml").read_text())["provenance"]
    assert provenance["promoted"] is True and provenance["eval"]["scores"] == {"skill": 1.0, "base": 0.0}

    # Two metrics, and a baseline told its own system prompt instead of plain base. The primary metric
    # ("told": any non-empty answer) ties the skill with that baseline, and a tie is not a win: demoted.
    prompt = tmp_path / "pirate-prompt.txt"
    prompt.write_text("Always begin your reply with the word 'Arr,' and nothing before it.")
    exact = spec_file(tmp_path / "exact.json", {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                                             "reference": "{{item.reference}}", "operation": "eq"})
    told = spec_file(tmp_path / "told.json", {"type": "string_check", "name": "told", "input": "{{sample.output_text}}",
                                           "reference": "", "operation": "ne"})
    assert main(["eval", "pirate", "--data", str(held_out), "--grader", str(told), "--grader", str(exact),
                 "--against", "none", "--baseline", f"pirate prompt={prompt}", "--max-tokens", "4", "--json"]) == 0
    card = load_card(pirate_skill)
    assert [c.label for c in card.conditions] == ["skill", "pirate prompt"] and card.primary_metric == "told"
    assert set(card.conditions[1].metrics) == {"told", "exact"} and card.conditions[1].system_prompt.startswith("Always")
    assert card.scores() == {"skill": 1.0, "pirate prompt": 1.0} and card.promoted is False
    assert tomllib.loads((pirate_skill / "skill.toml").read_text())["provenance"]["promoted"] is False


def test_eval_refuses_unknown_skills_and_bad_data(pirate_skill: Path, tmp_path: Path, capsys):
    grader = spec_file(tmp_path / "g.json", {"type": "string_check", "input": "{{sample.output_text}}", "reference": "x", "operation": "eq"})
    data = write(tmp_path / "d.jsonl", rows(range(2)))
    assert main(["eval", "nobody", "--data", str(data), "--grader", str(grader)]) == 2
    assert "unknown skill" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n')
    assert main(["eval", "pirate", "--data", str(bad), "--grader", str(grader)]) == 2
    assert "not usable held-out data" in capsys.readouterr().err
    assert main(["eval", "pirate", "--data", str(data), "--grader", str(grader), "--against", "base,rag"]) == 2
    assert "store" in capsys.readouterr().err.lower()
    assert main(["eval", "pirate", "--data", str(data), "--grader", str(grader), "--against", "gpt"]) == 2
    assert main(["eval", "pirate", "--data", str(data), "--grader", str(grader), "--against", "none"]) == 2
    assert "needs a base-model baseline" in capsys.readouterr().err
    assert main(["eval", "pirate", "--data", str(data), "--grader", str(grader), "--baseline", "no-file"]) == 2
    assert "LABEL=SYSTEM_PROMPT_FILE" in capsys.readouterr().err


@pytest.mark.slow
def test_score_model_can_be_judged_by_the_local_base_model(shared_settings):
    from skillstack.training.graders import build_grader

    grader = build_grader({"type": "score_model", "name": "local-judge", "model": "base", "range": [0, 10],
                           "sampling_params": {"max_completions_tokens": 4},
                           "input": [{"role": "user", "content": "How polite is this reply? {{sample.output_text}}"}]},
                          settings=shared_settings)
    assert 0.0 <= grader.grade({"output_text": "Thank you so much for your patience!", "output_json": None}, {}) <= 1.0
