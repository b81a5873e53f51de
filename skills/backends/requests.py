"""What every backend is: the Backend interface, the chat request it takes, the completion it returns,
and stop-string trimming.

Pure data, the abstract interface and pure helpers; no model code lives here (local.py, openai.py),
nor the registry of backend names (registry.py).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from skillstack.skills.grounding import Grounding
from skillstack.skills.input_bound import bind_to_input, input_text


@dataclass(kw_only=True)
class ChatRequest:
    messages: list[dict[str, str]] = field(metadata={"help": "Chat messages as {role, content}, system prompt already applied."})
    adapter: str | None = field(default=None, metadata={"help": "Local adapter (skill) name; None = the bare base model."})
    model: str | None = field(default=None, metadata={"help": "Remote model id (openai / openai-compatible backends)."})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus mass when sampling."})
    seed: int | None = field(default=None, metadata={"help": "Seed of this request's own sampler (local continuous "
                                                             "batching; None: random)."})
    max_tokens: int = field(default=256, metadata={"help": "Most new tokens."})
    stop: tuple[str, ...] = field(default=(), metadata={"help": "Strings that end the answer (cut, not included)."})
    json_schema: dict[str, Any] | None = field(default=None, metadata={"help": "Constrain the answer to this JSON Schema."})
    labels: tuple[str, ...] | None = field(default=None, metadata={"help": "Local backend: the answer is exactly one "
                                                                          "of these labels (classify skills)."})
    max_string: int | None = field(default=None, metadata={"help": "Local JSON decoding: most characters in a free-text "
                                                                    "string (None: unbounded); see structured.decoding_schema."})
    timeout: float | None = field(default=None, metadata={"help": "Seconds the generation may take (None: no limit)."})
    logprobs: bool = field(default=False, metadata={"help": "Return each answer token's log probability (OpenAI's "
                                                            "logprobs; local continuous batching and OpenAI-compatible servers)."})
    top_logprobs: int = field(default=0, metadata={"help": "With logprobs: the likeliest alternatives per token, 0-20."})
    grounding: Grounding | None = field(default=None, metadata={"help": "Local backend: cite only these articles and "
                                                                        "quote only these texts (remote backends ignore it)."})
    cancel: threading.Event | None = field(default=None, compare=False, metadata={
        "help": "Local continuous batching: set it to withdraw the request (queued or decoding); the call then "
                "raises RequestCancelled. Other backends ignore it."})

    def enforced_schema(self) -> dict[str, Any] | None:
        """json_schema as decoders enforce it: `x-from-input` fields narrowed to this request's input (input_bound.py)."""
        return bind_to_input(self.json_schema, input_text(self.messages))

    @property
    def sampling_key(self) -> tuple[Any, ...]:
        """Requests with equal keys can share one generate() call (one sampler, one stop list, one time limit)."""
        return (self.temperature if self.temperature > 0 else 0.0, self.top_p if self.temperature > 0 else 1.0, self.stop,
                self.timeout)


@dataclass(kw_only=True)
class Completion:
    text: str
    finish_reason: str = "stop"  # "stop" | "length"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: list[dict[str, Any]] | None = None  # OpenAI's logprobs `content` entries, when the request asked


class Backend(ABC):
    """Where a skill's tokens come from; SkillChatModel talks to every backend through these two calls."""

    @abstractmethod
    def complete(self, request: ChatRequest) -> Completion:
        """The whole answer to one request."""

    @abstractmethod
    def stream(self, request: ChatRequest) -> Iterator[str | Completion]:
        """The answer as text deltas, never emitting a stop string; then, where the backend knows them, one
        Completion (its text unused) with the finish reason and token counts."""


def cut_at_stop(text: str, stop: Iterable[str]) -> tuple[str, bool]:
    """Text up to the earliest stop string, and whether one was found."""
    positions = [text.find(s) for s in stop if s and s in text]
    if not positions:
        return text, False
    return text[: min(positions)], True


def stream_with_stop(deltas: Iterable[str], stop: tuple[str, ...]) -> Iterator[str]:
    """Re-chunk a delta stream so no stop string (even split across deltas) is ever emitted.

    Holds back at most len(longest stop) - 1 characters until it is sure they are not a stop's start.
    """
    if not stop:
        yield from (d for d in deltas if d)
        return
    hold = max(len(s) for s in stop) - 1
    buffer = ""
    for delta in deltas:
        buffer += delta
        cut, found = cut_at_stop(buffer, stop)
        if found:
            if cut:
                yield cut
            return
        if len(buffer) > hold:
            ready, buffer = buffer[: len(buffer) - hold], buffer[len(buffer) - hold:]
            yield ready
    if buffer:
        yield buffer
