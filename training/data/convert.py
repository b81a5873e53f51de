"""Conversion between OpenAI's fine-tuning formats and TRL's dataset formats (pure functions on one example).

TRL formats: conversational {"messages"}, prompt-completion {"prompt", "completion"} and preference
{"prompt", "chosen", "rejected"} (each field a message list, or a string in TRL's standard form).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillstack.errors import DatasetError
from .jsonl import read_jsonl, write_jsonl
from .validate import load_examples

TARGETS = ("openai", "trl", "trl-prompt-completion")


def _as_messages(value: Any, role: str) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        return [dict(m) for m in value]
    raise DatasetError(f"expected a string or a list of messages, got {type(value).__name__}")


def _strip_weights(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # TRL has no per-message weight; weight-0 turns become context, which TRL also trains on.
    return [{k: v for k, v in m.items() if k != "weight"} for m in messages]


def openai_to_trl(example: dict[str, Any], *, prompt_completion: bool = False) -> dict[str, Any]:
    """OpenAI chat -> TRL conversational (or prompt-completion); OpenAI DPO -> TRL preference."""
    if "preferred_output" in example:
        return {"prompt": _strip_weights(example["input"]["messages"]),
                "chosen": _strip_weights(example["preferred_output"]),
                "rejected": _strip_weights(example["non_preferred_output"])}
    messages = _strip_weights(example["messages"])
    if not prompt_completion:
        return {"messages": messages}
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last is None:
        raise DatasetError("a prompt-completion example needs an assistant message")
    return {"prompt": messages[:last], "completion": messages[last:]}


def _split_shared_prefix(chosen: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> tuple[list, list, list]:
    """TRL's implicit-prompt preference rows repeat the prompt inside chosen and rejected."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
        shared += 1
    return chosen[:shared], chosen[shared:], rejected[shared:]


def trl_to_openai(example: dict[str, Any]) -> dict[str, Any]:
    """Any TRL row (conversational, prompt-completion, preference with or without explicit prompt) -> OpenAI."""
    if "chosen" in example and "rejected" in example:
        chosen = _as_messages(example["chosen"], "assistant")
        rejected = _as_messages(example["rejected"], "assistant")
        if "prompt" in example:
            prompt = _as_messages(example["prompt"], "user")
        else:
            prompt, chosen, rejected = _split_shared_prefix(chosen, rejected)
        return {"input": {"messages": prompt}, "preferred_output": chosen, "non_preferred_output": rejected}
    if "prompt" in example and "completion" in example:
        return {"messages": _as_messages(example["prompt"], "user") + _as_messages(example["completion"], "assistant")}
    if "messages" in example:
        return {"messages": _as_messages(example["messages"], "user")}
    raise DatasetError(f"not a TRL row (keys {sorted(example)}); expected messages, prompt/completion or prompt/chosen/rejected")


def converter(target: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The one-example conversion to `target` (openai, trl or trl-prompt-completion)."""
    if target == "openai":
        return trl_to_openai
    if target == "trl":
        return openai_to_trl
    if target == "trl-prompt-completion":
        return lambda example: openai_to_trl(example, prompt_completion=True)
    raise DatasetError(f"unknown conversion target {target!r}; use one of {', '.join(TARGETS)}")


def convert_file(source: Path, target_path: Path, *, to: str) -> int:
    """Convert a whole file (validated OpenAI data when converting to TRL); returns the rows written.

    Conversion to OpenAI reads TRL rows under the JSON Lines rules only; check the output with validate_file.
    """
    convert = converter(to)
    if to != "openai":
        return write_jsonl(target_path, (convert(example) for example in load_examples(source)))
    rows = []
    for number, value, errors, _ in read_jsonl(source):
        if errors:
            raise DatasetError(f"{source}:{number}: {errors[0].code}: {errors[0].message}")
        if not isinstance(value, dict):
            raise DatasetError(f"{source}:{number}: each line must be a JSON object")
        try:
            rows.append(convert(value))
        except DatasetError as exc:
            raise DatasetError(f"{source}:{number}: {exc}") from exc
    return write_jsonl(target_path, rows)
