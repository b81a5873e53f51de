"""Token log probabilities as OpenAI reports them (`choices[0].logprobs.content`), from the local engine's logits.

Each decode step records the chosen token's log probability under the model's own distribution (the raw
logits, before constraints and sampling warpers, as OpenAI reports it) and the `top` likeliest tokens;
`entries` then keeps the steps whose tokens made the returned text (not an EOS, nor what a stop string cut).
"""

from __future__ import annotations

from typing import Any

Step = tuple[float, list[tuple[int, float]]]  # the chosen token's logprob, the top (token id, logprob) pairs

MAX_TOP = 20  # OpenAI's bound on top_logprobs


def step_logprobs(logits: Any, token: int, top: int) -> Step:
    """One decode step's record: logits is the row's 1-D logits vector."""
    import torch

    logprobs = torch.log_softmax(logits.float(), dim=-1)
    best = torch.topk(logprobs, min(top, MAX_TOP)) if top else None
    pairs = list(zip(best.indices.tolist(), best.values.tolist())) if best is not None else []
    return float(logprobs[token]), pairs


def _entry(tokenizer: Any, token: int, logprob: float) -> dict[str, Any]:
    text = tokenizer.decode([token], skip_special_tokens=False)
    return {"token": text, "logprob": logprob, "bytes": list(text.encode("utf-8"))}


def entries(tokenizer: Any, ids: list[int], steps: list[Step], text: str) -> list[dict[str, Any]]:
    """OpenAI's logprobs `content` for the tokens of ids that produced text (a prefix of their decoding)."""
    kept = ids[:ids.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in ids else ids
    low, high = 0, min(len(kept), len(steps))  # the fewest tokens whose decoding covers text: a binary search
    while low < high:
        middle = (low + high) // 2
        if len(tokenizer.decode(kept[:middle], skip_special_tokens=True)) >= len(text):
            high = middle
        else:
            low = middle + 1
    return [_entry(tokenizer, token, logprob) | {"top_logprobs": [_entry(tokenizer, t, lp) for t, lp in top]}
            for token, (logprob, top) in zip(kept[:low], steps)]
