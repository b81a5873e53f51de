"""Stacked multi-LoRA (skills/backends/stacked_lora.py) gives PEFT's `adapter_names=` outputs, on the real base model."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstack.models import base_model_id
from skillstack.settings import load_settings
from skillstack.skills.backends.local import LocalEngine
from skillstack.skills.backends.requests import ChatRequest

from skills_fixtures import make_lora_skill

pytestmark = pytest.mark.slow

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PROMPTS = ["Write a greeting for a customer.", "Explain what a refund is.", "Describe the colour blue.",
           "Give one tip for writing emails.", "What is a database index?", "Say thank you to a colleague.",
           "Name three fruits.", "Why do we sleep?"]
# Four adapters, one of them base rows: ranks 16, 8, 4 (zero-padded in the stacks) and one on q/v only
# (the other layers' stacks hold zeros in its slot).
ADAPTERS = ["s0", "s1", None, "s2", "s3", "s0", "s1", "s3"]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalEngine, LocalEngine]:
    home = tmp_path_factory.mktemp("stacked-home")
    settings = load_settings(home)
    shapes = [(16, ALL_LINEAR), (8, ("q_proj", "v_proj")), (16, ALL_LINEAR), (4, ALL_LINEAR)]
    skills = {f"s{i}": make_lora_skill(home / "skills" / f"s{i}", settings, name=f"s{i}", seed=i, rank=rank,
                                       target_modules=targets, scale=0.05)
              for i, (rank, targets) in enumerate(shapes)}
    stacked, peft = LocalEngine(settings, max_resident=8), LocalEngine(settings, max_resident=8, stacked_lora=False)
    for engine in (stacked, peft):
        for name, folder in skills.items():
            engine.ensure_adapter(name, folder, base_model_id(settings))
    return stacked, peft


def _requests(adapters: list[str | None]) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": p}], adapter=a, max_tokens=16)
            for p, a in zip(PROMPTS, adapters)]


def test_mixed_batch_greedy_outputs_identical_to_peft(engines: tuple[LocalEngine, LocalEngine]) -> None:
    stacked, peft = engines
    assert stacked.stacked is not None and peft.stacked is None
    assert [c.text for c in stacked.generate(_requests(ADAPTERS))] == [c.text for c in peft.generate(_requests(ADAPTERS))]


def test_single_adapter_batch_identical_to_peft(engines: tuple[LocalEngine, LocalEngine]) -> None:
    stacked, peft = engines
    one = ["s3"] * len(PROMPTS)
    assert [c.text for c in stacked.generate(_requests(one))] == [c.text for c in peft.generate(_requests(one))]


def test_step_by_step_forward_with_cache_takes_per_row_adapter_names(engines: tuple[LocalEngine, LocalEngine]) -> None:
    """The model forward keeps its interface: per-row adapter_names and a KV cache, one step at a time."""
    import torch

    stacked, peft = engines
    names = [a or "__base__" for a in ADAPTERS]
    inputs = stacked.encode(_requests(ADAPTERS))
    with torch.inference_mode():
        logits = {}
        for label, engine in (("stacked", stacked), ("peft", peft)):
            out = engine.peft(**inputs, adapter_names=names, use_cache=True)
            step = out.logits[:, -1:].argmax(-1)
            mask = torch.cat([inputs["attention_mask"], torch.ones_like(step)], dim=1)
            nxt = engine.peft(input_ids=step, attention_mask=mask, past_key_values=out.past_key_values,
                              adapter_names=names, use_cache=True)
            logits[label] = (out.logits[:, -1], nxt.logits[:, -1])
    for got, want in zip(logits["stacked"], logits["peft"]):
        assert torch.allclose(got, want, atol=1e-4, rtol=1e-4)
        assert torch.equal(got.argmax(-1), want.argmax(-1))


def test_evicting_an_adapter_restacks_the_rest(engines: tuple[LocalEngine, LocalEngine], tmp_path: Path) -> None:
    stacked, peft = engines
    rest = [a if a != "s1" else "s2" for a in ADAPTERS]
    stacked.evict("s1")
    assert "s1" not in stacked.stacked.slots
    assert [c.text for c in stacked.generate(_requests(rest))] == [c.text for c in peft.generate(_requests(rest))]


def test_adapter_weights_are_one_copy_shared_with_peft(engines: tuple[LocalEngine, LocalEngine]) -> None:
    stacked, _ = engines
    layer = stacked.peft.base_model.model.model.layers[0].self_attn.q_proj
    a, b, _ = layer._stacked
    weight = layer.lora_A["s0"].weight
    assert weight.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    assert layer.lora_B["s0"].weight.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
