"""The training-method registry: validated registration, and `skillstack train` built from it."""

from __future__ import annotations

import json

from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from skillstack.cli import cmd_train
from skillstack.errors import ConfigError
from skillstack.skills.manifest import SkillManifest, write_manifest
from skillstack.training import methods
from skillstack.training.config import TrainingConfig, setting
from skillstack.training.data.formats import PREFERENCE


@dataclass(kw_only=True)
class ToyConfig(TrainingConfig):
    """A method registered by a test, as a plugin module would."""

    margin: float = setting("How far preferred answers must beat the others.", 0.5, minimum=0)
    symmetric: bool = setting("Penalise both directions.", False)

    method = "toy"
    base_learning_rate = 1e-4


@pytest.fixture
def toy_method(monkeypatch: pytest.MonkeyPatch) -> list[methods.TrainJob]:
    """Register "toy" for one test; its train function records the jobs it gets."""
    monkeypatch.setattr(methods._METHODS, "entries", methods.training_methods())
    jobs: list[methods.TrainJob] = []

    def train(settings: object, job: methods.TrainJob) -> Path:
        jobs.append(job)
        write_manifest(job.output_dir, SkillManifest(name=job.skill.suffix, base_model="toy-base"))
        return job.output_dir

    methods.register_method(name="toy", config_cls=ToyConfig, data_format=PREFERENCE, train=train,
                            help="A toy preference method.")
    return jobs


def test_builtin_methods_are_registered_with_their_formats() -> None:
    found = methods.training_methods()
    assert {name: m.data_format for name, m in found.items() if name in ("sft", "dpo", "rft")} == \
        {"sft": "chat", "dpo": "preference", "rft": "reinforcement"}


@pytest.mark.parametrize("name", ["", "Toy", "k-t-o", "1st", None])
def test_invalid_method_names_are_refused(name: object) -> None:
    with pytest.raises(ConfigError, match="must match"):
        methods.register_method(name=name, config_cls=ToyConfig, data_format=PREFERENCE, train=print, help="x")


def test_a_second_method_under_a_taken_name_is_refused(toy_method: list) -> None:
    with pytest.raises(ConfigError, match="already registered"):
        methods.register_method(name="toy", config_cls=ToyConfig, data_format=PREFERENCE, train=print, help="other")


def test_a_config_naming_another_method_or_an_unknown_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="ToyConfig.method must be 'kto'"):
        methods.register_method(name="kto", config_cls=ToyConfig, data_format=PREFERENCE, train=print, help="x")
    with pytest.raises(ConfigError, match="data_format must be one of"):
        methods.register_method(name="toy", config_cls=ToyConfig, data_format="pairs", train=print, help="x")


def test_unknown_method_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: sft, dpo, rft"):
        methods.get_method("orpo")


def write_prefs(path: Path, *, rows: int) -> None:
    """An OpenAI DPO JSONL file with `rows` distinct preference pairs."""
    lines = [{"input": {"messages": [{"role": "user", "content": f"Say hello to visitor {i}."}]},
              "preferred_output": [{"role": "assistant", "content": "Hello, and welcome!"}],
              "non_preferred_output": [{"role": "assistant", "content": "What."}]} for i in range(rows)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_train_prints_the_dataset_advisors_warnings_before_training(
        toy_method: list, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefs = tmp_path / "prefs.jsonl"
    write_prefs(prefs, rows=3)
    train_cli(tmp_path, ["toy", str(prefs), "--suffix", "tiny"])
    assert "advice:" in capsys.readouterr().err and toy_method  # warned (too few examples), then trained


def train_cli(home: Path, args: list[str]) -> object:
    """`skillstack --home HOME train ARGS` on an app built now, after the test registered its method."""
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = {"home": home}

    app.add_typer(cmd_train.build_app())
    return app(["train", *args], standalone_mode=False)


def test_a_registered_method_is_a_train_subcommand_with_flags_from_its_config(
        toy_method: list, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_cli(tmp_path, ["--help"])
    assert "toy" in capsys.readouterr().out
    train_cli(tmp_path, ["toy", "--help"])
    help_text = capsys.readouterr().out
    assert "--margin" in help_text and "--no-symmetric" in help_text and "--n-epochs" in help_text

    prefs = tmp_path / "prefs.jsonl"
    write_prefs(prefs, rows=3)
    train_cli(tmp_path, ["toy", str(prefs), "--suffix", "toy-skill", "--margin", "2", "--symmetric",
                         "--n-epochs", "auto", "--set", "lora_r=4", "--json"])
    assert '"name": "toy-skill"' in capsys.readouterr().out
    [job] = toy_method
    assert (job.config.margin, job.config.symmetric, job.config.n_epochs, job.config.lora_r) == (2.0, True, "auto", 4)
    assert job.skill.suffix == "toy-skill" and job.output_dir == tmp_path / "skills" / "toy-skill"


def test_a_mistyped_flag_names_the_field(toy_method: list, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'margin' must be float"):
        train_cli(tmp_path, ["toy", "prefs.jsonl", "--suffix", "t", "--margin", "wide"])


def test_a_config_field_that_would_shadow_a_shared_flag_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    @dataclass(kw_only=True)
    class ClashConfig(TrainingConfig):
        config: str = setting("Shadows --config.", "")

        method = "clash"
        base_learning_rate = 1e-4

    monkeypatch.setattr(methods._METHODS, "entries", methods.training_methods())
    methods.register_method(name="clash", config_cls=ClashConfig, data_format=PREFERENCE, train=print, help="Clashes.")
    with pytest.raises(ConfigError, match="config field 'config' clashes"):
        train_cli(tmp_path, ["--help"])
