"""Real LoRA skill folders for tests, made without training: PEFT adapters with deterministic lora_B weights.

Each seed gives a different adapter that visibly changes greedy output; the folder is exactly
what training writes (PEFT's adapter files + skill.toml through write_manifest).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from skillstack.models import base_model_id, base_model_source, load_base_model
from skillstack.settings import Settings
from skillstack.skills.manifest import GenerationDefaults, SkillManifest, write_manifest


_scratch: dict[str, Any] = {}


def _scratch_base(settings: Settings) -> Any:
    """One private base model per source for every fixture adapter: PEFT wraps it, unload() restores it."""
    source, _ = base_model_source(settings)
    if source not in _scratch:
        _scratch[source] = load_base_model(settings, private=True)
    return _scratch[source]


def make_lora_skill(folder: Path, settings: Settings, *, name: str, seed: int, kind: str = "tone",
                    schema: dict | None = None, base_model: str | None = None, scale: float = 0.3,
                    routing_examples: list[str] | None = None, max_tokens: int = 12, rank: int = 4,
                    target_modules: tuple[str, ...] = ("q_proj", "v_proj")) -> Path:
    """Write a peft skill folder whose adapter's lora_B is seeded noise (scale sets how hard it steers)."""
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from safetensors.torch import save_file

    config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=list(target_modules), lora_dropout=0.0)
    peft = get_peft_model(_scratch_base(settings), config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param_name, param in peft.named_parameters():
            if "lora_A" in param_name:
                param.copy_(torch.randn(param.shape, generator=generator) / param.shape[1] ** 0.5)
            elif "lora_B" in param_name:
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(get_peft_model_state_dict(peft), str(folder / "adapter_model.safetensors"))
    # As training records it (training/lora.py): the base's identity, not this machine's cache path.
    peft.peft_config["default"].base_model_name_or_path = base_model or base_model_id(settings)
    peft.peft_config["default"].save_pretrained(str(folder))
    peft.unload()  # restore the scratch base for the next adapter
    if schema is not None:
        (folder / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    write_manifest(folder, SkillManifest(
        name=name, description=f"test skill {name}", kind=kind, backend="peft",
        base_model=base_model or base_model_id(settings), routing_examples=routing_examples or [f"example for {name}"],
        generation=GenerationDefaults(max_tokens=max_tokens), output="json" if schema else "text",
        schema="schema.json" if schema else None, provenance={"test": True}))
    return folder


PROMPT = "Write a greeting for a customer."
# Every field finite (enums, booleans): a random adapter may love digits, and a test must end.
STATUS_SCHEMA = {"type": "object", "properties": {"status": {"enum": ["ok", "degraded", "down"]},
                                                  "urgent": {"type": "boolean"}},
                 "required": ["status", "urgent"], "additionalProperties": False}
FT_ID = "ft:smollm2-135m-instruct:skillstack:tone-a:test1"


def _write_hostile_folders(skills: Path, settings: Settings) -> None:
    pickled = make_lora_skill(skills / "pickled", settings, name="pickled", seed=9)
    (pickled / "adapter_model.bin").write_bytes(b"not loaded, ever")
    make_lora_skill(skills / "other-base", settings, name="other-base", seed=9, base_model="meta-llama/Llama-3.2-1B")
    (skills / "broken").mkdir()
    (skills / "broken" / "skill.toml").write_text('version = 1\nname = "broken"\nkind = "poetry"\nbase_model = "x"\n')


@cache
def shared_skills_home() -> Path:
    """One home per test process holding three tone skills, a JSON skill and hostile folders (cap: 2 adapters)."""
    import atexit
    import shutil
    import tempfile

    from skillstack.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="skillstack-skills-"))
    atexit.register(shutil.rmtree, home, True)
    (home / "config.toml").write_text("max_resident_adapters = 2\n")
    settings = load_settings(home)
    skills = home / "skills"
    for seed, name in enumerate(("tone-a", "tone-b", "tone-c"), start=1):
        make_lora_skill(skills / name, settings, name=name, seed=seed)
    make_lora_skill(skills / "status-json", settings, name="status-json", seed=4, kind="format",
                    schema=STATUS_SCHEMA, max_tokens=48)
    _write_hostile_folders(skills, settings)
    manifest_file = skills / "tone-a" / "skill.toml"
    manifest_file.write_text(manifest_file.read_text().replace("[provenance]", f'[provenance]\nmodel_id = "{FT_ID}"'))
    return home


@cache
def expected_output(home: Path, name: str, max_tokens: int = 8) -> str:
    """The greedy answer of one skill to PROMPT, asked alone (the reference for batched and remote paths)."""
    from skillstack.settings import load_settings
    from skillstack.skills.runtime import chat_model

    return chat_model(load_settings(home), name, max_tokens=max_tokens).invoke(PROMPT).content


@pytest.fixture(scope="module")
def skills_home() -> Path:
    """The shared skills home (import this fixture into a test module to use it)."""
    return shared_skills_home()
