"""Synthetic chat SFT data: from templates with slots, or from a teacher chat model answering prompts
(local "base"/skill or an OpenAI model). Whatever is generated is deduplicated and validated before it is written.

Template file (JSON): {"system": str?, "slots": {name: [values]}, "examples": [{"user": str, "assistant": str}]};
`{name}` in user/assistant text is replaced by a slot value (plain names only: no format-string attributes).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillstack.errors import InputError
from skillstack.messages import content_text
from .checks import check_example
from .formats import CHAT
from .jsonl import read_json_object, read_jsonl, write_jsonl
from .stats import dedupe_examples
from .validate import validate_file

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace {slot} names; unknown names stay as written."""
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def load_template(path: Path) -> dict[str, Any]:
    spec = read_json_object(path, "template")
    slots, examples = spec.get("slots", {}), spec.get("examples")
    if not isinstance(slots, dict) or not all(isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in slots.values()):
        raise InputError(f"{path}: 'slots' must map names to non-empty lists of strings")
    if not isinstance(examples, list) or not examples or not all(
            isinstance(e, dict) and isinstance(e.get("user"), str) and isinstance(e.get("assistant"), str) for e in examples):
        raise InputError(f"{path}: 'examples' must be a non-empty list of {{\"user\": str, \"assistant\": str}}")
    if not isinstance(spec.get("system", ""), str):
        raise InputError(f"{path}: 'system' must be a string")
    return spec


def from_template(spec: dict[str, Any], *, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Up to n examples: every example template crossed with the slot values it uses, sampled with the seed."""
    slots: dict[str, list[str]] = spec.get("slots", {})
    candidates = []
    for example in spec["examples"]:
        names = sorted({*_SLOT.findall(example["user"]), *_SLOT.findall(example["assistant"])} & set(slots))
        for combo in itertools.product(*(slots[name] for name in names)):
            values = dict(zip(names, combo))
            messages = ([{"role": "system", "content": spec["system"]}] if spec.get("system") else []) + [
                {"role": "user", "content": fill(example["user"], values)},
                {"role": "assistant", "content": fill(example["assistant"], values)}]
            candidates.append({"messages": messages})
    random.Random(seed).shuffle(candidates)
    return candidates[:n]


def read_prompts(path: Path) -> list[str]:
    """Prompts from JSONL: {"text": ...} or a chat row (its last user message)."""
    prompts = []
    for number, value, errors, _ in read_jsonl(Path(path)):
        if errors:
            raise InputError(f"{path}:{number}: {errors[0].message}")
        text = value.get("text") if isinstance(value, dict) else None
        if text is None and isinstance(value, dict) and isinstance(value.get("messages"), list):
            text = next((m.get("content") for m in reversed(value["messages"]) if isinstance(m, dict) and m.get("role") == "user"), None)
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{path}:{number}: need {{\"text\": ...}} or messages with a user message")
        prompts.append(text)
    return prompts


def from_teacher(prompts: list[str], answer: Callable[[list[list[tuple[str, str]]]], list[str]], *,
                 system: str = "", progress: bool = True) -> list[dict[str, Any]]:
    """One example per prompt, answered by the teacher (called in batches)."""
    from tqdm import tqdm

    examples = []
    batch = 8
    head = [("system", system)] if system else []
    for start in tqdm(range(0, len(prompts), batch), desc="teacher", unit="batch", disable=not progress):
        chunk = prompts[start:start + batch]
        for prompt, reply in zip(chunk, answer([head + [("user", p)] for p in chunk])):
            examples.append({"messages": ([{"role": "system", "content": system}] if system else [])
                             + [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply.strip()}]})
    return examples


def teacher_from_model(settings: Any, model: str, *, temperature: float = 0.0, max_tokens: int = 256) -> Callable:
    """A batch answer function over "base", a local skill, or an OpenAI model name."""
    from skillstack.training.graders.base import BuildContext
    from skillstack.training.graders.judges import resolve_chat_model

    chat = resolve_chat_model(model, BuildContext(settings=settings), {"temperature": temperature, "max_tokens": max_tokens})

    def answer(batch: list[list[tuple[str, str]]]) -> list[str]:
        return [content_text(reply.content) for reply in chat.batch(batch, config={"max_concurrency": len(batch)})]
    return answer


def write_generated(examples: list[dict[str, Any]], output: Path) -> dict[str, Any]:
    """Dedupe, drop what fails the chat checks, write atomically, and validate the file written."""
    unique = dedupe_examples(examples)
    valid = [e for i, e in enumerate(unique, start=1) if not check_example(e, i, CHAT)[0]]
    write_jsonl(output, valid)
    report = validate_file(output)
    return {"output": str(output), "generated": len(examples), "duplicates_dropped": len(examples) - len(unique),
            "invalid_dropped": len(unique) - len(valid), "written": len(valid), "report": report.to_dict()}
