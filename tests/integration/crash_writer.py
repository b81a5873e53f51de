"""A victim process for the crash-safety tests: rewrites one folder through a real skillstack writer,
version after version, until it is SIGKILLed (`python crash_writer.py skill|eval|checkpoint FOLDER`).

Each version's files carry the version number (payload bytes, manifest provenance, eval rows, checkpoint
tensors), so the test can tell a whole version from a mix of two. Prints "ready" once the first is in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

PAYLOAD_BYTES = 24 * 1024 * 1024  # large enough that a random kill lands mid-write
EVAL_ROWS = 60_000
ROW_FILLER = "x" * 300


def _payload(version: int) -> bytes:
    return bytes([version % 251]) * PAYLOAD_BYTES


def _manifest(version: int):
    from skillstack.skills.manifest import SkillManifest

    return SkillManifest(name="crash", base_model="crash-base", provenance={"version": version})


def _publish(folder: Path, version: int) -> None:
    from skillstack.training.skill_writer import publish_skill

    publish_skill(folder, _manifest(version), write=lambda tmp: (tmp / "payload.bin").write_bytes(_payload(version)))


def current_version(folder: Path) -> int:
    from skillstack.skills.manifest import load_manifest

    return int(load_manifest(folder).provenance["version"]) if folder.exists() else -1


def write_skills(folder: Path) -> None:
    version = current_version(folder)
    while True:
        version += 1
        _publish(folder, version)
        print("ready", flush=True)


def write_evals(folder: Path) -> None:
    from skillstack.skills.manifest import load_manifest
    from skillstack.training.eval_card import Evaluation, load_card
    from skillstack.training.skill_writer import publish_skill

    from skillstack.skills.registry import BUNDLED_DIR

    card = load_card(BUNDLED_DIR / "brand-voice")
    if not folder.exists():
        _publish(folder, 0)  # the skill the eval cards are written into; its payload must survive every eval
    version = current_version(folder)
    while True:
        version += 1
        manifest = load_manifest(folder)
        manifest.provenance["version"] = version
        rows = [{"version": version, "item": i, "output": ROW_FILLER} for i in range(EVAL_ROWS)]
        publish_skill(folder, manifest, keep_from=folder, evaluation=Evaluation(card=card, outputs=rows))
        print("ready", flush=True)


def tiny_training_state():
    """A real PEFT model (LoRA on one wide linear layer), its optimizer and scheduler."""
    import torch
    from peft import LoraConfig, get_peft_model

    class Wide(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = torch.nn.Linear(2048, 2048)

        def forward(self, x):
            return self.proj(x)

    model = get_peft_model(Wide(), LoraConfig(r=256, target_modules=["proj"]))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
    model(torch.ones(1, 2048)).sum().backward()
    optimizer.step()  # optimizer state exists, as in a real run
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return model, optimizer, scheduler


def write_checkpoints(folder: Path) -> None:
    import torch

    from skillstack.training.checkpoints import LoopState, latest_checkpoint, save_checkpoint

    model, optimizer, scheduler = tiny_training_state()
    folder.mkdir(parents=True, exist_ok=True)
    found = latest_checkpoint(folder)
    step = found[0] if found else 0
    while True:
        step += 1
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_" in name:
                    param.fill_(float(step))
        save_checkpoint(folder, model, optimizer, scheduler, LoopState(step=step))
        print("ready", flush=True)


if __name__ == "__main__":
    mode, target = sys.argv[1], Path(sys.argv[2])
    {"skill": write_skills, "eval": write_evals, "checkpoint": write_checkpoints}[mode](target)
