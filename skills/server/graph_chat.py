"""Model `skillstack-graph` on /v1/chat/completions: the whole meta-agent graph answers one chat request.

The reply is a chat.completion whose extra field `skillstack` carries the graph's decision (route,
skill, confidence, reason) and what the answer stands on (citations, sources, verified), so an
OpenAI client reads the answer as usual and the Playground shows the rest. The graph is compiled on
the first request and again whenever the discovered skills change (a fine-tuning job's new skill
joins the router with no restart). Every node picks its own sampling, so a request that sets
temperature, top_p, stop, seed or response_format is refused naming the field, not half-honoured.
Streamed, a skill's (or the fallback's) tokens come as they are generated; a RAG or hybrid answer, checked
after generation, comes in one piece once checked; the last content chunk carries `skillstack`.
Not here: the graph itself (graphs/graph.py), a single model's chat (chat.py).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel

from skillstack.errors import SkillstackError
from skillstack.settings import Settings
from skillstack.skills.runtime import get_runtime
from .chat import pull_chunks, langchain_messages
from .errors import APIError, from_skillstack, log, stream_error_event
from .options import ServerOptions
from .schemas import ChatCompletion, ChatCompletionRequest

GRAPH_MODEL = "skillstack-graph"
# Per-request knobs the graph's nodes do not take (each skill keeps its own sampling and format).
_NODE_OWNED = ("temperature", "top_p", "stop", "seed", "response_format", "logprobs", "top_logprobs")
# The nodes whose model output is the answer as it is generated (see _answer_pieces).
_STREAMED_NODES = ("skill", "fallback")


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

    def _checked(self, body: ChatCompletionRequest, limits: ServerOptions) -> tuple[list[Any], int | None]:
        """The conversation as LangChain messages and the run's max_tokens, or a 400 naming what the graph cannot take."""
        for name in _NODE_OWNED:
            if getattr(body, name) is not None:
                raise APIError(400, f"'{name}' is not supported with model {GRAPH_MODEL}: each of the graph's "
                                    "skills uses its own; leave it out.", param=name, code="unsupported_parameter")
        messages = langchain_messages(body.messages, limits)
        if messages[-1].type != "human":
            raise APIError(400, f"The last message to {GRAPH_MODEL} must be the user's task.", param="messages",
                           code="invalid_value")
        requested = body.token_limit
        if requested is not None and limits.max_completion_tokens is not None and requested > limits.max_completion_tokens:
            raise APIError(400, f"max_tokens is {requested}; this server's limit is {limits.max_completion_tokens}.",
                           param="max_completion_tokens" if body.max_completion_tokens else "max_tokens",
                           code="invalid_value")
        return messages, requested or limits.max_completion_tokens

    def complete(self, body: ChatCompletionRequest, limits: ServerOptions) -> GraphCompletion:
        """Run the graph on the request's conversation (the last user message is the task)."""
        from skillstack.agents.state import RunContext, public_result

        messages, cap = self._checked(body, limits)
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

    def stream(self, request: Any, body: ChatCompletionRequest, limits: ServerOptions) -> AsyncIterator[str]:
        """The reply as chat.completion.chunk events, the decision in the last content chunk's `skillstack`.

        Checked and compiled before the first event, so a bad request is still an HTTP error."""
        messages, cap = self._checked(body, limits)
        graph = self.graph()
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        include_usage = bool(body.stream_options and body.stream_options.include_usage)

        def event(choices: list[dict[str, Any]], **extra: Any) -> str:
            data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": GRAPH_MODEL,
                    "choices": choices} | ({"usage": None} if include_usage else {}) | extra
            return f"data: {json.dumps(data)}\n\n"

        async def events() -> AsyncIterator[str]:
            answer = ""
            yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            try:
                async for kind, value in pull_chunks(_answer_pieces(graph, messages, cap)):
                    if kind == "text":
                        yield event([{"index": 0, "delta": {"content": value}, "finish_reason": None}])
                    else:
                        decision = {key: value[key] for key in GraphDecision.model_fields}
                        yield event([{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                    skillstack=GraphDecision.model_validate(decision).model_dump())
                        answer = value["answer"]
                    if await request.is_disconnected():
                        return
            except Exception as exc:  # headers are sent: the client learns of the failure in-band
                yield stream_error_event(exc, GRAPH_MODEL)
                return
            if include_usage:
                yield event([], usage=self._usage(messages, answer))
            yield "data: [DONE]\n\n"

        return events()

    def _usage(self, messages: list[Any], answer: str) -> dict[str, int]:
        """Tokens of the conversation and the answer (the graph's own internal prompts are not counted)."""
        from skillstack.messages import content_text

        tokenizer = get_runtime(self.settings).engine.tokenizer
        prompt = sum(len(tokenizer(content_text(m.content))["input_ids"]) for m in messages)
        completion = len(tokenizer(answer)["input_ids"])
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _answer_pieces(graph: Any, messages: list[Any], cap: int | None) -> Iterator[tuple[str, Any]]:
    """("text", piece) as the answer is generated, then ("done", the public result).

    Only the skill and fallback nodes' tokens are the answer as it is generated; a RAG or hybrid answer
    is checked after generation (grounding, the citation gate), so it comes in one piece once checked.
    """
    from skillstack.agents.state import RunContext, public_result
    from skillstack.messages import content_text

    values: dict[str, Any] = {}
    sent = ""
    for mode, chunk in graph.stream({"messages": messages}, context=RunContext(max_tokens=cap),
                                    stream_mode=["messages", "values"]):
        if mode == "values":
            values = chunk
            continue
        message, meta = chunk
        top_level = "|" not in str(meta.get("langgraph_checkpoint_ns", ""))
        if meta.get("langgraph_node") in _STREAMED_NODES and top_level and message.type == "AIMessageChunk":
            if text := content_text(message.content):
                sent += text
                yield "text", text
    result = public_result(values)
    # The answer node trims the text; whatever it has beyond what was streamed (all of it, for RAG and hybrid) follows.
    if result["answer"].startswith(sent.strip()):
        if rest := result["answer"][len(sent.strip()):]:
            yield "text", rest
    else:
        log.warning("the graph's answer differs from its streamed tokens; the stream keeps the tokens")
    yield "done", result
