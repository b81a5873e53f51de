"""Chat examples -> token ids with an assistant-only loss mask, length-grouped batches, dynamic padding.

Holds pure data preparation for the SFT loop (given a tokenizer); no model and no training.
Which tokens carry loss: those of assistant messages whose `weight` is not 0 (OpenAI's rule),
including the end-of-turn token so the model learns to stop; everything else is context.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from skillstack.errors import TrainingError
from skillstack.messages import content_text
from .data.formats import has_images


@dataclass(frozen=True)
class EncodedExample:
    input_ids: list[int]
    target_mask: list[bool]  # True where the token is predicted with loss

    def __len__(self) -> int:
        return len(self.input_ids)


def template_messages(example: dict[str, Any], system_prompt: str = "") -> list[dict[str, Any]]:
    """Messages as a chat template takes them: text content; tool calls as JSON text; the skill's system prompt first.

    The skill's system prompt is added only to examples without one, so training sees what the runtime sends.
    """
    messages = []
    for message in example["messages"]:
        text = content_text(message.get("content"))
        if message.get("tool_calls"):
            text = (text + "\n" if text else "") + json.dumps(message["tool_calls"], ensure_ascii=False)
        messages.append({"role": message["role"], "content": text, "weight": message.get("weight", 1)})
    if system_prompt and (not messages or messages[0]["role"] != "system"):
        messages.insert(0, {"role": "system", "content": system_prompt, "weight": 0})
    return messages


def _render(tokenizer: Any, messages: list[dict[str, Any]], *, generation_prompt: bool = False) -> str:
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    return tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer: Any, messages: list[dict[str, Any]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of the trained assistant turns.

    A turn's span runs from the end of the prompt rendered with the generation header up to the
    end of the conversation rendered through that turn, so it covers the answer and its end token.
    """
    full = _render(tokenizer, messages)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant" or message.get("weight", 1) == 0:
            continue
        start = len(_render(tokenizer, messages[:index], generation_prompt=True)) if index else 0
        through = _render(tokenizer, messages[: index + 1])
        end = len(through)
        if not full.startswith(through) or start > end:
            raise TrainingError("the base model's chat template does not render conversations prefix by prefix; "
                                "assistant-only loss cannot be located")
        spans.append((start, end))
    return full, spans


def encode_example(tokenizer: Any, example: dict[str, Any], *, max_seq_len: int, system_prompt: str = "",
                   where: str = "example") -> EncodedExample | None:
    """Token ids and loss mask of one chat example, cut at max_seq_len; None when no trained token is left."""
    if has_images(example):
        raise TrainingError(f"{where}: has image content, but the base model is text-only; "
                            "train vision examples with `skillstack jobs create` on OpenAI, or remove them")
    text, spans = assistant_spans(tokenizer, template_messages(example, system_prompt))
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])[:max_seq_len]
    offsets = encoded["offset_mapping"][: len(ids)]
    mask = [any(start < span_end and end > span_start for span_start, span_end in spans) for start, end in offsets]
    return EncodedExample(ids, mask) if any(mask[1:]) else None


def encode_examples(tokenizer: Any, examples: list[dict[str, Any]], *, max_seq_len: int, system_prompt: str = "",
                    source: str = "dataset") -> tuple[list[EncodedExample], int]:
    """Encode a dataset; returns (encoded, skipped) where skipped examples had no trained token within max_seq_len."""
    encoded, skipped = [], 0
    for line, example in enumerate(examples, start=1):
        item = encode_example(tokenizer, example, max_seq_len=max_seq_len, system_prompt=system_prompt,
                              where=f"{source}:{line}")
        if item is None:
            skipped += 1
        else:
            encoded.append(item)
    return encoded, skipped


def length_grouped_batches(lengths: list[int], batch_size: int, *, seed: int, epoch: int,
                           group_batches: int = 32) -> list[list[int]]:
    """One epoch's batches of example indices: shuffled, then sorted by length within windows of
    `group_batches` batches, so each batch holds similar lengths (little padding) while the order stays random.
    Deterministic in (seed, epoch), which is what lets a resumed run skip the batches it already did.
    """
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * group_batches
    batches = []
    for begin in range(0, len(order), window):
        chunk = sorted(order[begin: begin + window], key=lambda i: lengths[i], reverse=True)
        batches.extend(chunk[i: i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(examples: list[EncodedExample], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch to its own longest example (dynamic padding) as tensors."""
    import torch

    width = max(len(e) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    targets = torch.zeros((len(examples), width), dtype=torch.bool)
    for row, example in enumerate(examples):
        n = len(example)
        ids[row, :n] = torch.tensor(example.input_ids)
        attention[row, :n] = 1
        targets[row, :n] = torch.tensor(example.target_mask)
    return {"input_ids": ids, "attention_mask": attention, "target_mask": targets}


__all__ = ["EncodedExample", "assistant_spans", "collate", "encode_example", "encode_examples",
           "length_grouped_batches", "template_messages"]
