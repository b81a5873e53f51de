"""Token logprobs as OpenAI reports them: one entry per token of the returned text, with its alternatives."""

from __future__ import annotations

import math

import pytest
import torch

from skillstack.skills.backends.logprobs import entries, step_logprobs


@pytest.fixture(scope="module")
def tokenizer(shared_settings):
    from skillstack.models import load_tokenizer

    return load_tokenizer(shared_settings)


def test_a_step_records_the_chosen_tokens_log_probability_and_the_likeliest_alternatives():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    chosen, top = step_logprobs(logits, 1, top=2)
    expected = torch.log_softmax(logits, dim=-1)
    assert math.isclose(chosen, float(expected[1]), abs_tol=1e-6)
    assert [token for token, _ in top] == [0, 1] and top[0][1] >= top[1][1]
    assert step_logprobs(logits, 1, top=0)[1] == []


def test_entries_cover_the_returned_text_only_not_the_eos_nor_what_a_stop_string_cut(tokenizer):
    ids = tokenizer("Hello there. STOP and more", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    steps = [(-0.5, [(token, -0.5)]) for token in ids]
    text = "Hello there."  # what the completion kept: cut at the stop string " STOP"
    content = entries(tokenizer, ids, steps, text)
    joined = "".join(entry["token"] for entry in content)
    assert joined.startswith(text) and len(content) < len(ids) - 1
    assert all(entry["bytes"] == list(entry["token"].encode()) and entry["top_logprobs"] for entry in content)
    whole = tokenizer.decode(ids[:-1])
    assert "".join(e["token"] for e in entries(tokenizer, ids, steps, whole)) == whole  # EOS never an entry
