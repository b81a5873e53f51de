"""`skillstack train sft --nproc 2`: two torchrun workers (gloo, on the CPU) train the same skill as one process.

A tiny run (12 examples, global batch 4, 4 steps, LoRA dropout off so both runs see the same arithmetic):
the loss curve matches the single-process run's step for step; rank 0 writes the one skill folder, which
loads; a run whose worker is killed after its step-2 checkpoint resumes from it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from training_data import chat_example, support_rows, write_jsonl

pytestmark = pytest.mark.slow
FLAGS = ["--batch-size", "4", "--n-epochs", "2", "--max-steps", "4", "--max-seq-len", "96", "--lora-r", "4", "--lora-dropout", "0",
         "--eval-every", "2", "--num-threads", "1", "--no-progress", "--json"]


@pytest.fixture(scope="module")
def tiny_data(support_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    rows = support_rows(support_csv, per_category=6)
    folder = tmp_path_factory.mktemp("ddp-data")
    return (write_jsonl(folder / "train.jsonl", [chat_example(r) for r in rows[:12]]),
            write_jsonl(folder / "val.jsonl", [chat_example(r) for r in rows[12:22]]))


def train(home: Path, data: tuple[Path, Path], name: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skillstack.cli.main", "train", "sft", str(data[0]),
                             "--validation-file", str(data[1]), "--suffix", name, *FLAGS, *extra],
                            env={**os.environ, "SKILLSTACK_HOME": str(home)}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def losses(skill: Path) -> list[tuple[int, float, float | None]]:
    rows = [json.loads(line) for line in (skill / "metrics.jsonl").read_text().splitlines()]
    return [(row["step"], row["train_loss"], row.get("val_loss")) for row in rows]


def same_curve(ours: list, theirs: list) -> bool:
    close = lambda a, b: a is b is None or (a is not None and b is not None and abs(a - b) <= 2e-3 * max(1.0, abs(b)))  # noqa: E731
    return len(ours) == len(theirs) and all(s == t and close(a, c) and close(b, d)
                                            for (s, a, b), (t, c, d) in zip(ours, theirs))


@pytest.fixture(scope="module")
def single(tiny_data, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("single-home")
    return Path(result(train(home, tiny_data, "tiny-ddp"))["skill"])


def test_two_workers_train_the_same_loss_curve_into_one_loadable_skill(single, tiny_data, tmp_path):
    from skillstack.skills.manifest import load_manifest

    home = tmp_path / "home"
    home.mkdir()
    summary = result(train(home, tiny_data, "tiny-ddp", "--nproc", "2"))
    skill = Path(summary["skill"])
    assert skill == home / "skills" / "tiny-ddp" and summary["hyperparameters"]["total_steps"] == 4
    assert same_curve(losses(skill), losses(single)), (losses(skill), losses(single))
    assert [p.name for p in (home / "skills").iterdir()] == ["tiny-ddp"]  # one folder, no temp ones left
    assert not any((home / "runs").iterdir())  # rank 0 removed the run folder after publishing
    assert load_manifest(skill).provenance["model_id"] == "smollm2-135m-instruct:tiny-ddp"
    run = subprocess.run([sys.executable, "-m", "skillstack.cli.main", "run", "tiny-ddp", "I was charged twice",
                          "--max-tokens", "4"], env={**os.environ, "SKILLSTACK_HOME": str(home)},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip(), run.stderr[-2000:]


def test_a_killed_worker_run_resumes_from_rank_zeros_checkpoint(single, tiny_data, tmp_path):
    import psutil

    home = tmp_path / "home"
    home.mkdir()
    first = train(home, tiny_data, "tiny-ddp", "--nproc", "2", "--save-every", "2")
    deadline = time.time() + 600
    while not list((home / "runs").glob("*/checkpoint-2/state.pt")) and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    workers = [p for p in psutil.Process(first.pid).children(recursive=True)
               if "skillstack.training.distributed" in (line := " ".join(p.cmdline())) and "torch.distributed.run" not in line]
    assert len(workers) == 2, "the run ended before its step-2 checkpoint could be interrupted"
    os.kill(workers[-1].pid, signal.SIGKILL)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 2 and "re-run the same command to resume" in err, err[-2000:]

    summary = result(train(home, tiny_data, "tiny-ddp", "--nproc", "2", "--save-every", "2"))
    skill = Path(summary["skill"])
    from skillstack.skills.manifest import load_manifest

    assert load_manifest(skill).provenance["run"]["resumed_from_step"] == 2
    assert same_curve(losses(skill), losses(single)), (losses(skill), losses(single))
