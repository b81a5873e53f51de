"""Length-grouped batching and metrics summaries: pure functions behind the SFT loop."""

from __future__ import annotations

import json
from pathlib import Path

from skillstack.training.encoding import length_grouped_batches
from skillstack.training.metrics import MetricsLog, read_metrics, summarize
from skillstack.training.skill_writer import model_id, toml_safe


def test_every_example_appears_once_per_epoch() -> None:
    lengths = [(i * 37) % 101 + 1 for i in range(203)]
    batches = length_grouped_batches(lengths, 8, seed=1, epoch=0)
    flat = sorted(i for batch in batches for i in batch)
    assert flat == list(range(203))
    assert all(len(batch) <= 8 for batch in batches)


def test_grouping_by_length_cuts_padding_against_random_batches() -> None:
    import random

    lengths = [random.Random(i).randint(10, 400) for i in range(512)]

    def padding(batches: list[list[int]]) -> int:
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    order = list(range(512))
    random.Random(0).shuffle(order)
    shuffled = [order[i:i + 8] for i in range(0, 512, 8)]
    assert padding(length_grouped_batches(lengths, 8, seed=0, epoch=0)) < padding(shuffled) / 5


def test_batches_are_deterministic_per_epoch_and_differ_between_epochs() -> None:
    lengths = list(range(100))
    assert length_grouped_batches(lengths, 4, seed=3, epoch=2) == length_grouped_batches(lengths, 4, seed=3, epoch=2)
    assert length_grouped_batches(lengths, 4, seed=3, epoch=2) != length_grouped_batches(lengths, 4, seed=3, epoch=3)


def test_metrics_log_survives_a_torn_line_and_truncates_for_resume(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for step in range(1, 6):
        log.append(step=step, train_loss=1.0 / step, val_loss=None)
    with (tmp_path / "metrics.jsonl").open("a") as handle:
        handle.write('{"step": 6, "train_lo')  # killed mid-write
    assert [row["step"] for row in read_metrics(tmp_path / "metrics.jsonl")] == [1, 2, 3, 4, 5]
    log.truncate_after(3)
    rows = log.rows()
    assert [row["step"] for row in rows] == [1, 2, 3] and "val_loss" not in rows[0] and rows[0]["v"] == 1


def test_summary_reports_first_final_and_best_losses() -> None:
    rows = [{"step": 1, "train_loss": 2.0}, {"step": 2, "train_loss": 1.0, "val_loss": 1.5},
            {"step": 3, "train_loss": 0.5, "val_loss": 1.7, "token_accuracy": 0.9}]
    summary = summarize(rows)
    assert summary == {"steps": 3, "first_train_loss": 2.0, "final_train_loss": 0.5, "best_val_loss": 1.5,
                       "final_val_loss": 1.7, "final_token_accuracy": 0.9}


def test_model_id_is_openai_style_base_colon_suffix() -> None:
    assert model_id("HuggingFaceTB/SmolLM2-135M-Instruct", "brand-voice") == "smollm2-135m-instruct:brand-voice"


def test_provenance_is_made_toml_safe() -> None:
    safe = toml_safe({"a": None, "b": (1, None, 2), "c": {"d": Path("/x"), 3: "y"}})
    assert safe == {"b": [1, 2], "c": {"d": "/x", "3": "y"}}
    json.dumps(safe)
