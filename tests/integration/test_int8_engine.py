"""Weight-only int8 base (engine_dtype = "int8"): float32 LoRA beside int8 weights, and greedy agreement with float32."""

from __future__ import annotations

import pytest

from skillstack.errors import ConfigError
from skillstack.models import base_model_id, load_base_model
from skillstack.settings import load_settings
from skillstack.skills.backends.int8 import int8_supported
from skillstack.skills.backends.local import LocalEngine
from skillstack.skills.backends.requests import ChatRequest

from skills_fixtures import make_lora_skill

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not int8_supported(), reason="int8 kernel needs AVX-512")]

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# The fixed set of bench/skills.py's int8 rows.
PROMPTS = ["Write a greeting for a customer.", "Explain what a refund is.", "Describe the colour blue.",
           "Give one tip for writing emails.", "What is a database index?", "Say thank you to a colleague.",
           "Name three fruits.", "Why do we sleep?", "What is GDPR?", "How do I reset my password?",
           "Summarise the water cycle.", "Write a haiku about rain.", "What is 12 times 7?",
           "Translate 'good morning' to French.", "List two uses of a spreadsheet.", "What does a lawyer do?",
           "Describe a cat in one sentence.", "Why is the sky blue?", "How do plants make food?",
           "Give a tip for a job interview."]


@pytest.fixture(scope="module")
def settings_(tmp_path_factory: pytest.TempPathFactory):
    return load_settings(tmp_path_factory.mktemp("int8-home"))


def _requests(adapters: list[str | None], max_tokens: int = 8) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": p}], adapter=a, max_tokens=max_tokens)
            for p, a in zip(PROMPTS, adapters)]


def test_int8_base_keeps_float32_lora_on_every_linear_and_mixed_batches_work(settings_, tmp_path) -> None:
    from peft.tuners.lora import Linear as LoraLinear

    engine = LocalEngine(settings_, dtype="int8", max_resident=4)
    for i in range(2):
        folder = make_lora_skill(tmp_path / f"s{i}", settings_, name=f"s{i}", seed=i, rank=16,
                                 target_modules=ALL_LINEAR, scale=0.05)
        engine.ensure_adapter(f"s{i}", folder, base_model_id(settings_))
    layers = {name.rsplit(".", 1)[-1]: m for name, m in engine.peft.named_modules() if isinstance(m, LoraLinear)}
    assert set(layers) == set(ALL_LINEAR)
    assert len([m for m in engine.peft.modules() if isinstance(m, LoraLinear)]) == 7 * 30
    for layer in layers.values():
        assert layer.base_layer.weight.dtype.itemsize == 1 and not layer.base_layer.weight.dtype.is_floating_point
        assert all(a.weight.dtype.is_floating_point and a.weight.dtype.itemsize == 4 for a in layer.lora_A.values())
    assert not engine.model.get_input_embeddings().weight.dtype.is_floating_point  # the tied table is int8 too
    mix = ["s0", "s1", None, "s0"]
    mixed = [c.text for c in engine.generate(_requests(mix)[:4])]
    alone = [engine.generate([r])[0].text for r in _requests(mix)[:4]]
    assert mixed == alone
    assert mixed[0] != mixed[2] or mixed[1] != mixed[2]  # the adapters do steer the int8 base


def test_int8_greedy_tokens_agree_with_float32_on_the_fixed_set(settings_) -> None:
    """The agreement the int8 path is held to (bench/RESULTS.md has the batch-1 measurement): the first
    greedy token identical on at least 17 of 20 prompts, and at least half the 8-token continuations identical."""
    requests = _requests([None] * len(PROMPTS))
    fp32 = LocalEngine(settings_, dtype="float32")
    want = [c.text for c in fp32.generate(requests)]
    first = [fp32.tokenizer.encode(t, add_special_tokens=False)[:1] for t in want]
    del fp32
    int8 = LocalEngine(settings_, dtype="int8")
    got = [c.text for c in int8.generate(requests)]
    got_first = [int8.tokenizer.encode(t, add_special_tokens=False)[:1] for t in got]
    assert sum(a == b for a, b in zip(first, got_first)) >= 17, list(zip(want, got))
    assert sum(a == b for a, b in zip(want, got)) >= 10, list(zip(want, got))


def test_unknown_engine_dtype_is_refused_naming_the_setting(settings_) -> None:
    with pytest.raises(ConfigError, match="engine_dtype"):
        load_base_model(settings_, dtype="int4", private=True)
