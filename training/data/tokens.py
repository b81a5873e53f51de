"""Token counts of examples under the base model's tokenizer and chat template (used by validate and stats).

Counts what the model would see: the chat template rendered over the example's messages; for
preference examples the prompt plus the longer output. Image parts are not counted (text only).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from skillstack.messages import content_text
from .formats import PREFERENCE, REINFORCEMENT

# Tokenizers report absurd model_max_length (1e30) when they do not know; fall back to this.
DEFAULT_CONTEXT = 8192
_BATCH = 512
_MARGIN = 16


def context_length(tokenizer: Any) -> int:
    """The base model's context in tokens, as its tokenizer declares it."""
    declared = getattr(tokenizer, "model_max_length", None)
    return int(declared) if isinstance(declared, int) and 0 < declared < 10_000_000 else DEFAULT_CONTEXT


def _plain(message: dict[str, Any]) -> dict[str, str]:
    text = content_text(message.get("content"))
    for call in message.get("tool_calls") or []:
        text += json.dumps(call.get("function", call), ensure_ascii=False)
    return {"role": str(message.get("role")), "content": text}


def conversation(example: dict[str, Any], fmt: str) -> list[dict[str, str]]:
    """The messages whose tokens count toward the limit, as plain role/content pairs."""
    if fmt == PREFERENCE:
        outputs = [example.get("preferred_output") or [], example.get("non_preferred_output") or []]
        longest = max(outputs, key=lambda out: sum(len(content_text(m.get("content"))) for m in out))
        return [_plain(m) for m in list(example["input"]["messages"]) + list(longest)]
    return [_plain(m) for m in example["messages"]]


def render(tokenizer: Any, messages: list[dict[str, str]], *, generation_prompt: bool = False) -> str:
    """The text the model sees; a plain role-tagged join when the tokenizer has no chat template."""
    if getattr(tokenizer, "chat_template", None):
        try:
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
        except Exception:  # noqa: BLE001 - templates reject some role orders; counting must still work
            pass
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages)


def _byte_bound(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool,
                overheads: dict[tuple[str, ...], int]) -> int:
    """An upper bound on the rendered text's bytes without rendering it: the template's own bytes for this
    role sequence (rendered once with empty contents) plus twice the contents (a template may repeat one)."""
    roles = tuple(m["role"] for m in messages)
    if roles not in overheads:
        empty = [{"role": role, "content": ""} for role in roles]
        overheads[roles] = len(render(tokenizer, empty, generation_prompt=generation_prompt).encode("utf-8"))
    return overheads[roles] + 2 * sum(len(m["content"].encode("utf-8", "replace")) for m in messages)


def count_tokens(tokenizer: Any, examples: Sequence[dict[str, Any]], fmt: str, *,
                 skip_at_most: int | None = None) -> list[int | None]:
    """Tokens per example, tokenized in batches (a fast tokenizer does the batches in Rust).

    skip_at_most: leave None for examples that provably fit that many tokens, without rendering or
    tokenizing them: every token of a byte-level or byte-fallback tokenizer covers at least one byte
    of the rendered text (a small margin covers a prefix-space token).
    """
    generation_prompt = fmt == REINFORCEMENT
    conversations = [conversation(example, fmt) for example in examples]
    counts: list[int | None] = [None] * len(conversations)
    overheads: dict[tuple[str, ...], int] = {}
    todo = [i for i, messages in enumerate(conversations)
            if skip_at_most is None or _byte_bound(tokenizer, messages, generation_prompt, overheads) + _MARGIN > skip_at_most]
    texts = {i: render(tokenizer, conversations[i], generation_prompt=generation_prompt) for i in todo}
    # A fast tokenizer's Rust backend gives lengths without building Python lists of ids.
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and getattr(backend, "truncation", None):  # a truncating backend would undercount
        backend = None
    for start in range(0, len(todo), _BATCH):
        indexes = todo[start:start + _BATCH]
        # Lone surrogates (legal as JSON escapes, not as UTF-8) would make the Rust tokenizer raise.
        chunk = [texts[i].encode("utf-8", "replace").decode("utf-8") for i in indexes]
        if backend is not None:
            lengths = [len(encoding) for encoding in backend.encode_batch(chunk, add_special_tokens=False)]
        else:
            lengths = [len(ids) for ids in tokenizer(chunk, add_special_tokens=False)["input_ids"]]
        for i, length in zip(indexes, lengths):
            counts[i] = length
    return counts
