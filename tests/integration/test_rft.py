"""Reinforcement fine-tuning: completions sampled from the real base model, rewarded by a real grader (GRPO)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_data import SYSTEM_PROMPT, support_rows, write_jsonl

GRADER = {"type": "string_check", "name": "category", "operation": "ilike",
          "input": "{{sample.output_text}}", "reference": "{{item.category}}"}


def reinforcement_example(row: dict[str, str]) -> dict:
    return {"messages": [{"role": "user", "content": row["instruction"]}], "category": row["category"].lower()}


def test_grader_reward_scores_each_completion_against_its_item() -> None:
    from skillstack.training.graders import build_grader
    from skillstack.training.rft import grader_reward

    reward = grader_reward(build_grader(GRADER))
    completions = [[{"role": "assistant", "content": "Category: REFUND"}], [{"role": "assistant", "content": "no idea"}]]
    items = [json.dumps({"category": "refund"}), json.dumps({"category": "refund"})]
    assert reward(prompts=[[], []], completions=completions, item_json=items) == [1.0, 0.0]


@pytest.mark.slow
def test_rft_updates_an_adapter_from_grader_rewards(settings, support_csv: Path, tmp_path: Path) -> None:
    from skillstack.skills.manifest import load_manifest
    from skillstack.training.methods import TrainJob
    from skillstack.training.rft import RFTConfig, train_rft
    from skillstack.training.skill_writer import SkillSpec

    data = write_jsonl(tmp_path / "rl.jsonl", [reinforcement_example(r) for r in support_rows(support_csv, per_category=3)])
    config = RFTConfig(grader=GRADER, n_samples=2, max_completion_tokens=6, batch_size=1, max_steps=2, save_every=0,
                       lora_r=4, max_seq_len=96)
    folder = train_rft(settings, TrainJob(train_file=data, output_dir=tmp_path / "skills" / "support-rft", config=config,
                                          skill=SkillSpec(suffix="support-rft", system_prompt=SYSTEM_PROMPT), progress=False))
    provenance = load_manifest(folder).provenance
    assert provenance["method"] == "rft" and provenance["config"]["grader"]["type"] == "string_check"
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(0.0 <= r["reward"] <= 1.0 for r in rows)


def test_rft_without_a_grader_is_refused(settings, tmp_path: Path) -> None:
    from skillstack.errors import ConfigError
    from skillstack.training.methods import TrainJob
    from skillstack.training.rft import RFTConfig, train_rft
    from skillstack.training.skill_writer import SkillSpec

    with pytest.raises(ConfigError, match="grader"):
        train_rft(settings, TrainJob(train_file=tmp_path / "x.jsonl", output_dir=tmp_path / "out", config=RFTConfig(),
                                     skill=SkillSpec(suffix="x")))


@pytest.mark.slow
def test_rft_continues_the_status_skill_rewarded_by_the_python_rules_grader(settings, tmp_path: Path) -> None:
    from skillstack.skills.manifest import load_manifest
    from skillstack.skills.registry import BUNDLED_DIR
    from skillstack.training.demo_skills import status_json, status_rules
    from skillstack.training.methods import TrainJob
    from skillstack.training.rft import RFTConfig, train_rft
    from skillstack.training.skill_writer import SkillSpec

    _, items, _ = status_json.generate(11, n_train=0, n_heldout=10)
    data = write_jsonl(tmp_path / "rl.jsonl", items)  # reinforcement rows: the report, and the expected record
    config = RFTConfig(grader=status_rules.grader_spec(), n_samples=2, max_completion_tokens=160, temperature=0.7,
                       batch_size=1, max_steps=1, save_every=0, max_seq_len=400,
                       init_adapter=str(BUNDLED_DIR / status_json.NAME))
    folder = train_rft(settings, TrainJob(train_file=data, output_dir=tmp_path / "skills" / "status-rft", config=config,
                                          skill=SkillSpec(suffix="status-rft", system_prompt=status_json.SYSTEM_PROMPT),
                                          progress=False))
    provenance = load_manifest(folder).provenance
    assert provenance["config"]["grader"]["type"] == "python" and provenance["config"]["init_adapter"].endswith(status_json.NAME)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    # started from the SFT skill, the sampled records already earn part of the rules' reward
    assert [r["step"] for r in rows] == [1] and 0.0 < rows[0]["reward"] <= 1.0
