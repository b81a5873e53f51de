"""A training run killed with SIGKILL resumes from its last checkpoint when the same command runs again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from training_data import chat_example, support_rows, write_jsonl


@pytest.mark.slow
def test_killed_sft_run_resumes_from_its_checkpoint_not_step_zero(home: Path, support_csv: Path, tmp_path: Path) -> None:
    from skillstack.skills.manifest import load_manifest

    train = write_jsonl(tmp_path / "train.jsonl", [chat_example(r) for r in support_rows(support_csv, per_category=3)])
    out = tmp_path / "skills" / "resumable"
    command = [sys.executable, "-m", "skillstack.cli.main", "--home", str(home), "train", "sft", str(train),
               "--suffix", "resumable", "--output", str(out), "--max-steps", "6", "--batch-size", "2",
               "--set", "save_every=2", "--set", "max_seq_len=64", "--set", "lora_r=4", "--no-progress", "--json"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while not list((home / "runs").glob("*/checkpoint-*/state.pt")):
        assert first.poll() is None, first.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not out.exists()  # nothing half-written where the skill goes
    checkpoint_step = max(int(p.name.split("-")[1]) for p in (home / "runs").glob("*/checkpoint-*"))

    second = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(second.stdout)["name"] == "resumable"
    provenance = load_manifest(out).provenance
    assert provenance["run"]["resumed_from_step"] >= checkpoint_step >= 2
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]  # the killed run's steps kept once, the rest added after the checkpoint
    assert "resumed from the checkpoint at step" in (out / "TRAINING.md").read_text()
