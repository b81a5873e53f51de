"""Resumable training state: the run folder, its fingerprint, atomic checkpoints, the best adapter.

Holds the on-disk state of the own SFT loop; not the loop. A run folder lives under
home/runs/<suffix>-<fingerprint>, where the fingerprint covers the datasets, the config,
the base model and the output folder: re-running the same command finds and resumes the run,
a changed command starts a new one. Checkpoints are written to a temp folder then renamed,
so a run killed mid-write resumes from the previous complete checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstack.io import atomic_folder, remove_folder
from skillstack.settings import Settings

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
KEEP_CHECKPOINTS = 2


def run_fingerprint(**parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def prepare_run_dir(settings: Settings, *, suffix: str, parts: dict[str, Any], train_file: Path,
                    validation_file: Path | None, output_dir: Path) -> Path:
    """The run folder of this exact job (created if new): same datasets, config, base and output -> same folder."""
    from skillstack.models import base_model_id
    from .skill_writer import file_sha256

    fingerprint = run_fingerprint(train=file_sha256(train_file),
                                  validation=file_sha256(validation_file) if validation_file else None,
                                  base=base_model_id(settings), output=str(Path(output_dir).expanduser().resolve()),
                                  **parts)
    folder = settings.home / "runs" / f"{suffix}-{fingerprint}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def latest_checkpoint(folder: Path) -> tuple[int, Path] | None:
    """The highest-step complete checkpoint in a run folder, if any."""
    found = [(int(m.group(1)), p) for p in folder.glob("checkpoint-*") if (m := CHECKPOINT_PATTERN.match(p.name))
             and (p / "state.pt").is_file()]
    return max(found) if found else None


@dataclass
class LoopState:
    """Where the loop stands: enough to continue exactly (with the optimizer's own state beside it)."""

    step: int = 0
    epoch: int = 0
    batches_done: int = 0  # batches of `epoch` already trained
    best_val_loss: float | None = None
    bad_evals: int = 0
    tokens: int = 0


def _adapter_state(model: Any) -> dict[str, Any]:
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(model, save_embedding_layers=False)
    return {k: v.detach().cpu().contiguous() for k, v in state.items()}


def save_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any, state: LoopState) -> Path:
    """Write checkpoint-<step> atomically and drop all but the newest KEEP_CHECKPOINTS."""
    import torch
    from safetensors.torch import save_file

    target = folder / f"checkpoint-{state.step}"
    with atomic_folder(target) as tmp:
        save_file(_adapter_state(model), str(tmp / "adapter.safetensors"))
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "rng": torch.get_rng_state(), "loop": vars(state)}, tmp / "state.pt")
    steps = sorted(int(m.group(1)) for p in folder.glob("checkpoint-*") if (m := CHECKPOINT_PATTERN.match(p.name)))
    for old in steps[:-KEEP_CHECKPOINTS]:
        remove_folder(folder / f"checkpoint-{old}")  # whole or gone, even if killed mid-delete
    return target


def load_checkpoint(path: Path, model: Any, optimizer: Any, scheduler: Any) -> LoopState:
    """Restore adapter weights, optimizer, scheduler and RNG from a checkpoint; returns the loop state."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model, load_file(str(path / "adapter.safetensors")))
    saved = torch.load(path / "state.pt", weights_only=True)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    return LoopState(**saved["loop"])


def save_adapter(model: Any, target: Path) -> Path:
    """PEFT's save_pretrained (adapter_config.json + adapter_model.safetensors), replaced atomically."""
    with atomic_folder(target) as tmp:
        # save_embedding_layers=False: LoRA never resizes embeddings, and "auto" would look the base up on the hub.
        model.save_pretrained(str(tmp), save_embedding_layers=False)
    return target


__all__ = ["LoopState", "latest_checkpoint", "load_checkpoint", "prepare_run_dir", "run_fingerprint", "save_adapter",
           "save_checkpoint"]
