"""`skillstack train`: config files and flags merged into a run, and bad input refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.cli.cmd_train import build_run, parse_assignments, read_config_file
from skillstack.cli.main import main
from skillstack.errors import ConfigError
from skillstack.training.dpo import DPOConfig
from skillstack.training.sft import SFTConfig


def test_flags_override_the_config_file_and_skill_keys_go_to_the_skill(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('n_epochs = 2\nlora_r = 16\n[skill]\nsuffix = "brand-voice"\nkind = "tone"\n', encoding="utf-8")
    config, skill = build_run("sft", read_config_file(path), {"lora_r": 4, "suffix": None, "batch_size": "auto"}, str(path))
    assert isinstance(config, SFTConfig) and (config.n_epochs, config.lora_r, config.batch_size) == (2, 4, "auto")
    assert skill.suffix == "brand-voice" and skill.kind == "tone"


def test_json_config_files_work_too(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"beta": 0.2, "skill": {"suffix": "polite"}}), encoding="utf-8")
    config, _ = build_run("dpo", read_config_file(path), {}, str(path))
    assert isinstance(config, DPOConfig) and config.beta == 0.2


def test_set_assignments_parse_json_values_or_keep_text() -> None:
    assert parse_assignments(["save_every=20", "target_modules=[\"q_proj\"]", "n_epochs=auto"]) == \
        {"save_every": 20, "target_modules": ["q_proj"], "n_epochs": "auto"}
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["oops"])


def test_missing_suffix_and_unknown_skill_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--suffix"):
        build_run("sft", {}, {}, "flags")
    with pytest.raises(ConfigError, match="unknown \\[skill\\] key"):
        build_run("sft", {"skill": {"suffix": "a", "colour": "red"}}, {}, "cfg.toml")


def test_broken_config_file_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("n_epochs = = 3", encoding="utf-8")
    assert main(["--home", str(tmp_path), "train", "sft", str(tmp_path / "d.jsonl"), "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "bad.toml" in err and len(err.splitlines()) == 1


def test_grader_flag_is_refused_for_sft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grader = tmp_path / "g.json"
    grader.write_text("{}", encoding="utf-8")
    assert main(["--home", str(tmp_path), "train", "sft", "d.jsonl", "--suffix", "x", "--grader", str(grader)]) == 2
    assert "--grader" in capsys.readouterr().err
