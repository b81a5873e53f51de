"""LoRA SFT on the real base model: the skill folder it writes, assistant-only loss, refusals.

Runs are a few optimizer steps on short examples: they prove the parts fit, not that it learns
(test_train_customer_support.py proves that).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_data import SYSTEM_PROMPT, chat_example, support_rows, write_jsonl

from skillstack.errors import DatasetError, TrainingError
from skillstack.training.methods import TrainJob
from skillstack.training.sft import SFTConfig, train_sft
from skillstack.training.skill_writer import SkillSpec

TINY = dict(batch_size=4, max_seq_len=96, save_every=0, eval_every=2, lora_r=4)


@pytest.fixture(scope="module")
def tiny_data(support_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    rows = support_rows(support_csv, per_category=6)
    folder = tmp_path_factory.mktemp("sft-data")
    return (write_jsonl(folder / "train.jsonl", [chat_example(r) for r in rows[:12]]),
            write_jsonl(folder / "val.jsonl", [chat_example(r) for r in rows[12:24]]))


@pytest.fixture(scope="module")
def tokenizer(shared_settings):
    from skillstack.models import load_tokenizer

    return load_tokenizer(shared_settings)


def test_loss_covers_assistant_tokens_only_and_respects_weight_zero(tokenizer) -> None:
    from skillstack.training.encoding import encode_example

    example = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "SKIPPED", "weight": 0},
                            {"role": "user", "content": "again"}, {"role": "assistant", "content": "TRAINED"}]}
    encoded = encode_example(tokenizer, example, max_seq_len=512)
    trained = tokenizer.decode([t for t, m in zip(encoded.input_ids, encoded.target_mask) if m])
    assert trained.startswith("TRAINED") and trained.rstrip().endswith("<|im_end|>")
    assert "SKIPPED" not in trained and "again" not in trained and "hi" not in trained


def test_skill_system_prompt_is_added_only_where_examples_have_none(tokenizer) -> None:
    from skillstack.training.encoding import template_messages

    bare = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    own = {"messages": [{"role": "system", "content": "mine"}, *bare["messages"]]}
    assert template_messages(bare, "skill prompt")[0]["content"] == "skill prompt"
    assert [m["content"] for m in template_messages(own, "skill prompt")] == ["mine", "q", "a"]


def test_example_cut_before_its_answer_is_skipped(tokenizer) -> None:
    from skillstack.training.encoding import encode_example

    example = {"messages": [{"role": "user", "content": "long " * 200}, {"role": "assistant", "content": "answer"}]}
    assert encode_example(tokenizer, example, max_seq_len=32) is None


def test_vision_examples_are_refused_for_a_text_only_base(tokenizer) -> None:
    from skillstack.training.encoding import encode_example

    example = {"messages": [{"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                                         {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                            {"role": "assistant", "content": "a cat"}]}
    with pytest.raises(TrainingError, match="image content.*text-only"):
        encode_example(tokenizer, example, max_seq_len=512, where="data.jsonl:7")


@pytest.mark.slow
def test_sft_writes_a_complete_skill_folder(settings, tiny_data: tuple[Path, Path], tmp_path: Path) -> None:
    from skillstack.skills.manifest import load_manifest

    train, val = tiny_data
    spec = SkillSpec(suffix="support-tiny", kind="format", system_prompt=SYSTEM_PROMPT,
                     routing_examples=["where is my refund?"])
    folder = train_sft(settings, TrainJob(train_file=train, validation_file=val, output_dir=tmp_path / "skills" / "support-tiny",
                                          config=SFTConfig(max_steps=2, **TINY), skill=spec, progress=False))
    names = {p.name for p in folder.iterdir()}
    assert {"skill.toml", "adapter_config.json", "adapter_model.safetensors", "TRAINING.md", "metrics.jsonl",
            "loss_curve.png"} <= names
    manifest = load_manifest(folder)
    assert (manifest.name, manifest.kind, manifest.backend) == ("support-tiny", "format", "peft")
    provenance = manifest.provenance
    assert provenance["model_id"] == "smollm2-135m-instruct:support-tiny"
    assert len(provenance["dataset_sha256"]) == 64 and provenance["examples"] == 12
    assert provenance["config"]["lora_r"] == 4 and provenance["hyperparameters"]["total_steps"] == 2
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert {"train_loss", "token_accuracy", "learning_rate", "epoch", "val_loss"} <= set(rows[-1])
    assert (folder / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "smollm2-135m-instruct:support-tiny" in (folder / "TRAINING.md").read_text()
    adapter = json.loads((folder / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and adapter["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert not (settings.home / "runs").exists() or not any((settings.home / "runs").iterdir())
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_invalid_dataset_is_refused_before_any_model_loads(settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 12, encoding="utf-8")
    with pytest.raises(DatasetError, match="skillstack data validate"):
        train_sft(settings, TrainJob(train_file=bad, output_dir=tmp_path / "out", config=SFTConfig(),
                                     skill=SkillSpec(suffix="bad"), progress=False))
    assert not (tmp_path / "out").exists()


def test_bad_skill_name_is_refused_up_front(settings, tmp_path: Path) -> None:
    from skillstack.errors import ConfigError

    with pytest.raises(ConfigError, match="not a valid skill name"):
        train_sft(settings, TrainJob(train_file=tmp_path / "any.jsonl", output_dir=tmp_path / "out", config=SFTConfig(),
                                     skill=SkillSpec(suffix="Bad Name!")))
