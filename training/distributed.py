"""Data-parallel training across processes: the torchrun launch, the process group, and what the ranks share.

`skillstack train sft --nproc N` writes the job to a file and starts N workers with torchrun
(torch.distributed.run, standalone rendezvous on this machine); each worker runs this module's main on the
same job. The SFT loop splits every global batch between the ranks (rank r takes examples r, r+N, ...),
weights each rank's loss by its share of the batch's target tokens and sums the gradients, so one step
equals the single-process step on the same batch. Rank 0 alone writes metrics, checkpoints, the best
adapter and the skill folder; every rank resumes from the same checkpoint. gloo on CPU, nccl on CUDA
(one GPU per rank, cuda:LOCAL_RANK). Outside torchrun every helper is the single-process identity.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from skillstack.errors import TrainingError
from skillstack.settings import Settings, with_overrides


def world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) outside torchrun."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    return world()[0] == 0


def rank_settings(settings: Settings) -> Settings:
    """Settings for this rank: on CUDA each rank trains on its own GPU (LOCAL_RANK), elsewhere unchanged."""
    if world()[1] > 1 and settings.device.startswith("cuda"):
        return with_overrides(settings, device=f"cuda:{os.environ.get('LOCAL_RANK', '0')}")
    return settings


@contextlib.contextmanager
def process_group(device: str) -> Iterator[None]:
    """Join the torchrun workers' process group (nccl on CUDA, gloo otherwise) for the duration of a run."""
    import torch.distributed as dist

    if world()[1] == 1 or dist.is_initialized():
        yield
        return
    dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def my_share(indices: Sequence[int]) -> list[int]:
    """This rank's examples of one global batch."""
    rank, size = world()
    return list(indices[rank::size])


def sum_across(values: Sequence[float]) -> list[float]:
    """Each value summed over the ranks (the values themselves in one process)."""
    if world()[1] == 1:
        return list(values)
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(list(values), dtype=torch.float64)
    dist.all_reduce(tensor)
    return tensor.tolist()


def sum_gradients(params: Sequence[Any]) -> None:
    """Sum the trainable parameters' gradients over the ranks, in one flat buffer (a rank with no examples in
    a batch contributes zeros)."""
    if world()[1] == 1:
        return
    import torch
    import torch.distributed as dist

    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
        offset += p.numel()


def launch(settings: Settings, method: str, job: Any, nproc: int) -> Path:
    """Run `job` with `nproc` torchrun workers; returns the skill folder rank 0 wrote."""
    with tempfile.TemporaryDirectory(prefix="skillstack-ddp-") as tmp:
        spec = Path(tmp) / "job.json"
        spec.write_text(json.dumps({"home": str(settings.home), "method": method, "config": job.config.to_dict(),
                                    "skill": asdict(job.skill), "train_file": str(job.train_file),
                                    "validation_file": str(job.validation_file) if job.validation_file else None,
                                    "output_dir": str(job.output_dir), "progress": job.progress}, default=str), encoding="utf-8")
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                   "-m", "skillstack.training.distributed", str(spec)]
        # Workers print nothing on stdout (the CLI prints the result once); torchrun's notes go to stderr.
        done = subprocess.run(command, stdout=sys.stderr, check=False)
    if done.returncode != 0:
        raise TrainingError(f"data-parallel training with {nproc} processes failed (exit {done.returncode}; the "
                            "workers' errors are above); re-run the same command to resume from its last checkpoint")
    return Path(job.output_dir)


def run_worker(spec_file: Path) -> None:
    """One torchrun worker: rebuild the job written by launch() and train it as this rank."""
    from skillstack.coerce import coerce_field
    from skillstack.settings import load_settings
    from .config import config_from_mapping
    from .methods import TrainJob, get_method
    from .skill_writer import SkillSpec

    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    method = get_method(spec["method"])
    job = TrainJob(train_file=spec["train_file"], validation_file=spec["validation_file"],
                   output_dir=spec["output_dir"], progress=spec["progress"] and is_main(),
                   config=config_from_mapping(method.config_cls, spec["config"], origin=str(spec_file)),
                   skill=SkillSpec(**{key: coerce_field(SkillSpec, key, value, origin=str(spec_file), label="skill key")
                                      for key, value in spec["skill"].items()}))
    method.train(load_settings(Path(spec["home"])), job)


if __name__ == "__main__":
    run_worker(Path(sys.argv[1]))
