"""SIGKILL during a skill folder write, an eval card write and a training checkpoint save: what is left
under the folder's name is always one whole version, the old one or the new one, never a mix or nothing.

A victim process (crash_writer.py) rewrites the folder through the real function with a large payload,
version after version; it is killed at a random instant, several times, and the folder checked each time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crash_writer import EVAL_ROWS, PAYLOAD_BYTES, current_version

pytestmark = pytest.mark.slow

VICTIM = Path(__file__).with_name("crash_writer.py")
KILLS = 3


def _kill_at_random(mode: str, folder: Path, rng: random.Random) -> None:
    """Start the victim, let it finish at least one version, then SIGKILL it at a random instant."""
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(VICTIM.parent)}
    victim = subprocess.Popen([sys.executable, str(VICTIM), mode, str(folder)], stdout=subprocess.PIPE, text=True,
                              env=env)
    try:
        assert victim.stdout.readline().strip() == "ready", "the victim died before its first version"
        time.sleep(rng.uniform(0.0, 1.5))
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=60)


def _payload_is_whole(path: Path, version: int) -> None:
    data = path.read_bytes()
    assert len(data) == PAYLOAD_BYTES and data.count(bytes([version % 251])) == PAYLOAD_BYTES, path


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("mode", ["skill", "eval"])
def test_a_killed_skill_or_eval_card_write_leaves_the_old_folder_or_the_new_one(tmp_path: Path, mode: str) -> None:
    from skillstack.skills.manifest import load_manifest
    from skillstack.training.eval_card import load_card

    folder = tmp_path / "skills" / "crash"
    rng = random.Random(f"{mode}-kills")
    seen = []
    for _ in range(KILLS):
        _kill_at_random(mode, folder, rng)
        assert _visible(folder) == ["crash"]  # never absent, never a second visible copy
        version = current_version(folder)
        seen.append(version)
        manifest = load_manifest(folder)
        if mode == "skill":
            _payload_is_whole(folder / "payload.bin", version)
            assert sorted(p.name for p in folder.iterdir()) == ["payload.bin", "skill.toml"]
            continue
        _payload_is_whole(folder / "payload.bin", 0)  # kept from the folder's first version through every eval
        rows = [json.loads(line) for line in (folder / "eval_outputs.jsonl").read_text().splitlines()]
        assert len(rows) == EVAL_ROWS and {row["version"] for row in rows} == {version}
        assert load_card(folder).skill and (folder / "EVAL.md").read_text().strip()
        assert manifest.provenance["eval"] and "promoted" in manifest.provenance
    assert seen == sorted(seen) and seen[-1] > seen[0]  # each run went on from the version the kill left


def test_a_killed_checkpoint_save_leaves_only_whole_checkpoints(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from skillstack.training.checkpoints import latest_checkpoint

    folder = tmp_path / "run"
    rng = random.Random("checkpoint-kills")
    for _ in range(KILLS):
        _kill_at_random("checkpoint", folder, rng)
        visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
        assert visible and len(visible) <= 3  # the kept two, and at most one whose deletion was under way
        for checkpoint in visible:
            step = int(checkpoint.name.removeprefix("checkpoint-"))
            assert sorted(p.name for p in checkpoint.iterdir()) == ["adapter.safetensors", "state.pt"]
            tensors = load_file(str(checkpoint / "adapter.safetensors"))
            assert tensors and all(bool((t == float(step)).all()) for t in tensors.values()), checkpoint
            assert torch.load(checkpoint / "state.pt", weights_only=True)["loop"]["step"] == step
        assert latest_checkpoint(folder)[0] == max(int(p.name.split("-")[1]) for p in visible)
