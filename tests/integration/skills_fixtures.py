"""Real LoRA skill folders for tests, made without training: PEFT adapters with deterministic lora_B weights.

Each seed gives a different adapter that visibly changes greedy output; the folder is exactly
what training writes (PEFT's adapter files + skill.toml through write_manifest).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from skillstack.models import base_model_id, base_model_source
from skillstack.settings import Settings
from skillstack.skills.manifest import GenerationDefaults, SkillManifest, write_manifest


@cache
def _scratch_base(source: str) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(source)


def make_lora_skill(folder: Path, settings: Settings, *, name: str, seed: int, kind: str = "tone",
                    schema: dict | None = None, base_model: str | None = None, scale: float = 0.15,
                    routing_examples: list[str] | None = None, max_tokens: int = 12) -> Path:
    """Write a peft skill folder whose adapter's lora_B is seeded noise (scale sets how hard it steers)."""
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from safetensors.torch import save_file

    source, _ = base_model_source(settings)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    peft = get_peft_model(_scratch_base(source), config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param_name, param in peft.named_parameters():
            if "lora_B" in param_name:
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(get_peft_model_state_dict(peft), str(folder / "adapter_model.safetensors"))
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
