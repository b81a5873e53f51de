"""The training configs: "auto" heuristics, loading from mappings, refusal of bad values."""

from __future__ import annotations

import pytest

from skillstack.errors import ConfigError
from skillstack.training.config import (auto_batch_size, auto_learning_rate_multiplier, auto_n_epochs,
                                        config_from_mapping, resolve_hyperparameters)
from skillstack.training.dpo import DPOConfig
from skillstack.training.rft import RFTConfig
from skillstack.training.sft import SFTConfig


@pytest.mark.parametrize(("examples", "epochs"), [(10, 10), (20, 5), (33, 4), (34, 3), (1000, 3), (8333, 3), (8334, 2),
                                                   (10_000, 2), (30_000, 1), (1, 25)])
def test_auto_epochs_follow_openais_rule(examples: int, epochs: int) -> None:
    assert auto_n_epochs(examples) == epochs


@pytest.mark.parametrize(("examples", "batch"), [(10, 1), (80, 2), (200, 4), (1000, 16), (100_000, 32)])
def test_auto_batch_size_is_a_power_of_two_near_two_percent(examples: int, batch: int) -> None:
    assert auto_batch_size(examples) == batch


def test_auto_learning_rate_multiplier_grows_with_batch_and_is_clamped() -> None:
    assert auto_learning_rate_multiplier(1) == 0.5
    assert auto_learning_rate_multiplier(8) == 1.0
    assert auto_learning_rate_multiplier(16) == pytest.approx(1.4142)
    assert auto_learning_rate_multiplier(256) == 2.0


def test_resolved_hyperparameters_count_steps_and_scale_the_base_rate() -> None:
    hyper = resolve_hyperparameters(SFTConfig(), 80)
    assert (hyper.n_epochs, hyper.batch_size, hyper.steps_per_epoch, hyper.total_steps) == (3, 2, 40, 120)
    assert hyper.learning_rate == pytest.approx(SFTConfig.base_learning_rate * hyper.learning_rate_multiplier)


def test_max_steps_caps_the_run_and_batch_never_exceeds_the_dataset() -> None:
    hyper = resolve_hyperparameters(SFTConfig(batch_size=64, max_steps=5), 12)
    assert hyper.batch_size == 12 and hyper.total_steps == 5


def test_explicit_values_override_auto() -> None:
    hyper = resolve_hyperparameters(DPOConfig(n_epochs=2, batch_size=4, learning_rate_multiplier=0.5), 100)
    assert (hyper.n_epochs, hyper.batch_size) == (2, 4)
    assert hyper.learning_rate == pytest.approx(DPOConfig.base_learning_rate * 0.5)


def test_config_from_mapping_coerces_flag_strings() -> None:
    config = config_from_mapping(SFTConfig, {"n_epochs": "4", "batch_size": "auto", "learning_rate_multiplier": "0.5",
                                            "qlora": "false", "target_modules": ["q_proj", "v_proj"]})
    assert (config.n_epochs, config.batch_size, config.learning_rate_multiplier, config.qlora) == (4, "auto", 0.5, False)
    assert config.target_modules == ["q_proj", "v_proj"]


def test_unknown_key_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"cfg.toml: unknown setting 'lora_rank'.*lora_r"):
        config_from_mapping(SFTConfig, {"lora_rank": 8}, origin="cfg.toml")


@pytest.mark.parametrize(("key", "value"), [("n_epochs", "many"), ("lora_r", 2.5), ("seed", -1), ("batch_size", 0),
                                            ("learning_rate_multiplier", [1])])
def test_mistyped_values_are_refused_naming_the_field(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        config_from_mapping(SFTConfig, {key: value})


def test_method_mismatch_in_a_config_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="method is 'dpo'"):
        config_from_mapping(SFTConfig, {"method": "dpo"})


def test_rft_config_takes_a_grader_table_and_every_field_has_help() -> None:
    from dataclasses import fields

    config = config_from_mapping(RFTConfig, {"grader": {"type": "string_check", "operation": "eq"}, "n_samples": 2})
    assert config.grader["type"] == "string_check" and config.to_dict()["method"] == "rft"
    assert all(f.metadata.get("help") for f in fields(RFTConfig))


@pytest.mark.parametrize(("cores", "load", "threads"), [(2, 0.0, 2), (2, 1.0, 2), (2, 1.6, 1), (2, 11.0, 1), (16, 3.0, 8)])
def test_auto_threads_take_one_per_idle_core(cores: int, load: float, threads: int) -> None:
    from skillstack.training.config import auto_threads

    assert auto_threads(cores, load, most=8 if cores == 16 else 2) == threads


def test_qlora_auto_loads_four_bits_only_where_a_gpu_and_bitsandbytes_exist() -> None:
    from skillstack.errors import TrainingError
    from skillstack.training.lora import wants_qlora

    assert SFTConfig().qlora == "auto"
    assert wants_qlora("auto", cuda=True, bitsandbytes=True)
    assert not wants_qlora("auto", cuda=False, bitsandbytes=True) and not wants_qlora("auto", cuda=True, bitsandbytes=False)
    assert not wants_qlora(False, cuda=True, bitsandbytes=True)
    with pytest.raises(TrainingError, match="needs a CUDA GPU"):
        wants_qlora(True, cuda=False, bitsandbytes=True)
    with pytest.raises(TrainingError, match="pip install bitsandbytes"):
        wants_qlora(True, cuda=True, bitsandbytes=False)
