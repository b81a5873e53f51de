"""DPO from preference pairs on the real base model: a skill folder with DPO provenance and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_data import SYSTEM_PROMPT, support_rows, write_jsonl


def preference_example(row: dict[str, str]) -> dict:
    return {"input": {"messages": [{"role": "user", "content": row["instruction"]}]},
            "preferred_output": [{"role": "assistant", "content": f"category: {row['category'].lower()}"}],
            "non_preferred_output": [{"role": "assistant", "content": "I am not sure what you mean."}]}


@pytest.mark.slow
def test_dpo_trains_a_skill_from_preference_pairs(settings, support_csv: Path, tmp_path: Path) -> None:
    from skillstack.skills.manifest import load_manifest
    from skillstack.training.dpo import DPOConfig, train_dpo
    from skillstack.training.methods import TrainJob
    from skillstack.training.skill_writer import SkillSpec

    data = write_jsonl(tmp_path / "prefs.jsonl", [preference_example(r) for r in support_rows(support_csv, per_category=3)])
    folder = train_dpo(settings, TrainJob(train_file=data, output_dir=tmp_path / "skills" / "support-dpo",
                                          config=DPOConfig(max_steps=2, batch_size=2, max_seq_len=96, save_every=0, lora_r=4),
                                          skill=SkillSpec(suffix="support-dpo", system_prompt=SYSTEM_PROMPT), progress=False))
    manifest = load_manifest(folder)
    assert manifest.provenance["method"] == "dpo" and manifest.provenance["config"]["beta"] == 0.1
    assert manifest.provenance["model_id"] == "smollm2-135m-instruct:support-dpo"
    assert (folder / "adapter_model.safetensors").stat().st_size > 0
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "train_loss" in r] == [1, 2]
    assert all("reward_accuracy" in r for r in rows if "train_loss" in r)


def test_dpo_refuses_chat_data(settings, tmp_path: Path) -> None:
    from skillstack.errors import DatasetError
    from skillstack.training.dpo import DPOConfig, train_dpo
    from skillstack.training.methods import TrainJob
    from skillstack.training.skill_writer import SkillSpec

    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
                    * 1 + "\n", encoding="utf-8")
    with pytest.raises(DatasetError):
        train_dpo(settings, TrainJob(train_file=chat, output_dir=tmp_path / "out", config=DPOConfig(),
                                     skill=SkillSpec(suffix="x"), progress=False))
