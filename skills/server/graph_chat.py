"""Model `skillstack-graph` on /v1/chat/completions: the whole meta-agent graph answers one chat request.

The reply is a chat.completion whose extra field `skillstack` carries the graph's decision (route,
skill, confidence, reason) and what the answer stands on (citations, sources, verified), so an
OpenAI client reads the answer as usual and the Playground shows the rest. The graph is compiled on
the first request and again whenever the discovered skills change (a fine-tuning job's new skill
joins the router with no restart). Every node picks its own sampling, so a request that sets
temperature, top_p, stop, seed or response_format is refused naming the field, not half-honoured.
Not here: the graph itself (graphs/graph.py), a single model's chat (chat.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from pydantic import BaseModel

from skillstack.errors import SkillstackError
from skillstack.settings import Settings
from skillstack.skills.runtime import get_runtime
from .chat import _to_langchain
from .errors import APIError, from_skillstack
from .options import ServerOptions
from .schemas import ChatCompletion, ChatCompletionRequest

GRAPH_MODEL = "skillstack-graph"
# Per-request knobs the graph's nodes do not take (each skill keeps its own sampling and format).
_NODE_OWNED = ("temperature", "top_p", "stop", "seed", "response_format")


class Citation(BaseModel):
    article: str | int
    verified: bool
    source: str | None = None


class GraphDecision(BaseModel):
    """Where the graph sent the request and what the answer rests on."""

    route: str | None
    skill: str | None
    confidence: float | None
    reason: str
    citations: list[Citation]
    sources: list[str]
    verified: bool | None


class GraphCompletion(ChatCompletion):
    """A chat.completion with the graph's decision beside the answer."""

    skillstack: GraphDecision


class GraphChat:
    """One compiled graph per server, rebuilt when the set of skills changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._graph: Any = None
        self._skills: frozenset[str] = frozenset()

    def graph(self) -> Any:
        from skillstack.graphs.graph import compile_graph

        skills = get_runtime(self.settings).discovery(refresh=True).skills
        with self._lock:
            if self._graph is None or frozenset(skills) != self._skills:
                self._graph = compile_graph(self.settings, skills=skills)
                self._skills = frozenset(skills)
            return self._graph

    def complete(self, body: ChatCompletionRequest, limits: ServerOptions) -> GraphCompletion:
        """Run the graph on the request's conversation (the last user message is the task)."""
        from skillstack.agents.state import RunContext, public_result

        for name in _NODE_OWNED:
            if getattr(body, name) is not None:
                raise APIError(400, f"'{name}' is not supported with model {GRAPH_MODEL}: each of the graph's "
                                    "skills uses its own; leave it out.", param=name, code="unsupported_parameter")
        if body.stream:
            raise APIError(400, f"Streaming is not supported with model {GRAPH_MODEL} yet; send stream=false.",
                           param="stream", code="unsupported_parameter")
        messages = _to_langchain(body.messages, limits)
        if messages[-1].type != "human":
            raise APIError(400, f"The last message to {GRAPH_MODEL} must be the user's task.", param="messages",
                           code="invalid_value")
        requested = body.token_limit
        if requested is not None and limits.max_completion_tokens is not None and requested > limits.max_completion_tokens:
            raise APIError(400, f"max_tokens is {requested}; this server's limit is {limits.max_completion_tokens}.",
                           param="max_completion_tokens" if body.max_completion_tokens else "max_tokens",
                           code="invalid_value")
        cap = requested or limits.max_completion_tokens
        try:
            values = self.graph().invoke({"messages": messages}, context=RunContext(max_tokens=cap))
        except SkillstackError as exc:
            raise from_skillstack(exc) from None
        result = public_result(values)
        return GraphCompletion.model_validate({
            "id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": GRAPH_MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result["answer"]},
                         "finish_reason": "stop"}],
            "usage": self._usage(messages, result["answer"]),
            "skillstack": {key: result[key] for key in GraphDecision.model_fields}})

    def _usage(self, messages: list[Any], answer: str) -> dict[str, int]:
        """Tokens of the conversation and the answer (the graph's own internal prompts are not counted)."""
        from skillstack.messages import content_text

        tokenizer = get_runtime(self.settings).engine.tokenizer
        prompt = sum(len(tokenizer(content_text(m.content))["input_ids"]) for m in messages)
        completion = len(tokenizer(answer)["input_ids"])
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
