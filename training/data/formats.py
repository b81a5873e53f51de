"""The dataset formats skillstack reads, as pure predicates over one parsed JSON line.

Holds the format names, the OpenAI vocabulary (roles, message keys) and shape tests; the
finding-by-finding checks live in checks.py and the file-level rules in validate.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from skillstack.messages import content_text

CHAT = "chat"
PREFERENCE = "preference"
REINFORCEMENT = "reinforcement"
FORMATS = (CHAT, PREFERENCE, REINFORCEMENT)

# developer is the newer name OpenAI uses for system in reinforcement prompts.
ROLES = ("system", "developer", "user", "assistant", "tool")
# Keys OpenAI's fine-tuning accepts on a chat message (function_call is the legacy form of tool_calls).
MESSAGE_KEYS = frozenset({"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"})
CHAT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions", "metadata"})
PREFERENCE_KEYS = frozenset({"input", "preferred_output", "non_preferred_output", "metadata"})


def _messages(obj: Any) -> list[Any] | None:
    messages = obj.get("messages") if isinstance(obj, dict) else None
    return messages if isinstance(messages, list) and messages else None


def is_chat_example(obj: Any) -> bool:
    """OpenAI chat SFT: a non-empty `messages` list with at least one assistant message."""
    messages = _messages(obj)
    return messages is not None and any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages)


def is_preference_example(obj: Any) -> bool:
    """OpenAI DPO: `input.messages` plus `preferred_output` and `non_preferred_output`."""
    return (isinstance(obj, dict) and "preferred_output" in obj and "non_preferred_output" in obj
            and _messages(obj.get("input")) is not None)


def is_reinforcement_example(obj: Any) -> bool:
    """Reinforcement: a prompt (`messages` ending before the answer) plus reference fields the graders read."""
    messages = _messages(obj)
    if messages is None or not isinstance(messages[-1], dict) or messages[-1].get("role") == "assistant":
        return False
    return any(key not in CHAT_KEYS for key in obj)


def detect_format(objs: Iterable[Any]) -> str:
    """The format most examples follow; chat when nothing decides (its findings then explain why)."""
    votes: Counter[str] = Counter()
    for obj in objs:
        if not isinstance(obj, dict):
            continue
        if "preferred_output" in obj or "non_preferred_output" in obj or "input" in obj:
            votes[PREFERENCE] += 1
        elif is_reinforcement_example(obj):
            votes[REINFORCEMENT] += 1
        else:
            votes[CHAT] += 1
    if not votes:
        return CHAT
    best = max(votes.values())
    # A tie goes to the format listed first in FORMATS.
    return next(name for name in FORMATS if votes[name] == best)


def prompt_and_answer(example: dict[str, Any], fmt: str) -> tuple[list[dict[str, Any]], str | None]:
    """Split a valid example into the prompt messages and the reference answer text (if any).

    Chat: everything before the last assistant message, and that message's content.
    Preference: the input messages and the preferred answer. Reinforcement: the messages, no answer.
    """
    if fmt == PREFERENCE:
        preferred = example["preferred_output"][-1]
        return list(example["input"]["messages"]), content_text(preferred.get("content"))
    messages = list(example["messages"])
    if fmt == CHAT:
        last = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
        return messages[:last], content_text(messages[last].get("content"))
    return messages, None


def example_messages(example: Any) -> list[Any]:
    """Every message list of an example: `messages`, `input.messages` and the DPO outputs."""
    if not isinstance(example, dict):
        return []
    found: list[Any] = []
    inner = example.get("input")
    for candidate in (example.get("messages"), inner.get("messages") if isinstance(inner, dict) else None,
                      example.get("preferred_output"), example.get("non_preferred_output")):
        if isinstance(candidate, list):
            found.extend(candidate)
    return found


def has_images(example: Any) -> bool:
    """Whether any message holds an image_url content part (vision examples)."""
    return any(isinstance(m, dict) and isinstance(m.get("content"), list)
               and any(isinstance(p, dict) and p.get("type") == "image_url" for p in m["content"])
               for m in example_messages(example))
