"""SkillChatModel: any skill (local adapter, base model, OpenAI, OpenAI-compatible) as a LangChain chat model.

Owns what is the same on every backend: the skill's system prompt, generation defaults and
per-call overrides, stop strings, JSON and label validation with bounded retries, streaming (usage on the
last chunk), with_structured_output, and tool calling (bind_tools; the encoding lives in tool_calls.py).
Tokens come from a backend object (backends/).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict, Field, model_validator

from skillstack.errors import InputError, OutputValidationError
from skillstack.messages import content_text
from . import tool_calls as tc
from .backends.requests import ChatRequest, Completion
from .structured import check_label, parse_and_validate, schema_from

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "user", "function": "user", "chat": "user"}
# Per-call keyword arguments a request understands (bind(...), invoke(..., **kwargs)).
_CALL_PARAMS = {"temperature", "top_p", "seed", "max_tokens", "json_schema", "labels", "system", "grounding", "tools", "tool_choice",
                "logprobs", "top_logprobs",
                "timeout", "cancel"}
STRUCTURED_METHODS = ("json_schema", "function_calling", "json_mode")


def _message_text(message: BaseMessage) -> str:
    """A message's words, with tool calls and tool results in the encoding of tool_calls.py."""
    text = content_text(message.content)
    if message.type == "ai" and getattr(message, "tool_calls", None):
        return "\n".join(part for part in (text, tc.tool_call_text(message.tool_calls)) if part)
    if message.type == "tool":
        return tc.tool_result_text(getattr(message, "name", None), getattr(message, "tool_call_id", None), text,
                                   getattr(message, "status", "success"))
    return text


def to_chat_messages(messages: Sequence[BaseMessage], system_prompt: str) -> list[dict[str, str]]:
    """Role/content dicts with the skill's system prompt first; caller system messages are appended to it."""
    system = [system_prompt] if system_prompt else []
    chat: list[dict[str, str]] = []
    for message in messages:
        role = _ROLES.get(message.type, "user")
        if role == "system":
            system.append(content_text(message.content))
        else:
            chat.append({"role": role, "content": _message_text(message)})
    if not chat:
        raise InputError("a chat request needs at least one user message")
    return ([{"role": "system", "content": "\n\n".join(system)}] if system else []) + chat


class SkillChatModel(BaseChatModel):
    """A skill as a chat model: invoke, stream, batch, bind_tools, with_structured_output; temperature 0 is greedy."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    skill: str = Field(description="Skill name, or 'base' for the base model without adapter.")
    backend: Any = Field(exclude=True, description="Where tokens come from (a backends/ object).")
    model: str = Field(default="", description="The model behind the skill, reported in traces and in "
                                               "response_metadata['model_name'] (empty: the skill name).")
    system_prompt: str = ""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] = Field(default_factory=list)
    timeout: float | None = Field(default=None, description="Seconds one generation may take (local: generation "
                                                            "stops there; remote: the request fails).")
    streaming: bool = Field(default=False, description="invoke() streams internally, so callbacks see each token.")
    json_schema: dict[str, Any] | None = Field(default=None, description="Every answer must be JSON valid under this schema.")
    labels: list[str] | None = Field(default=None, description="Every answer must be exactly one of these (classify skills).")
    max_retries: int = Field(default=2, description="Extra attempts (with doubled max_tokens) when JSON or label output fails validation.")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_arguments(cls, values: Any) -> Any:
        """An argument this model would silently drop (a typo, another provider's option) is an error."""
        if isinstance(values, dict):
            known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
            unknown = sorted(set(values) - known)
            if unknown:
                raise InputError(f"SkillChatModel got unknown argument(s) {', '.join(unknown)}; it takes "
                                 f"{', '.join(sorted(set(cls.model_fields) - set(BaseChatModel.model_fields)))}")
        return values

    @property
    def _llm_type(self) -> str:
        return "skillstack-skill"

    @property
    def model_name(self) -> str:
        return self.model or self.skill

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"skill": self.skill, "model": self.model_name, "temperature": self.temperature, "top_p": self.top_p,
                "max_tokens": self.max_tokens, "stop": self.stop}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(ls_provider="skillstack", ls_model_type="chat",
                                 ls_model_name=kwargs.get("model") or self.model_name,
                                 ls_temperature=kwargs.get("temperature", self.temperature),
                                 ls_max_tokens=kwargs.get("max_tokens", self.max_tokens))
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop)
        return params

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable:
        """Offer tools (BaseTool, function, pydantic class, OpenAI dict); tool_choice: "auto" (default), "any" or
        "required" (some tool), a tool's name (that tool), "none". Calls are decoded under the tools' JSON Schemas."""
        converted = tc.openai_tools(tools)
        tc.normalize_choice(tool_choice, converted)  # a bad choice fails here, not at the first call
        return self.bind(tools=converted, tool_choice=tool_choice, **kwargs)

    def prompt_messages(self, messages: list[BaseMessage], **kwargs: Any) -> list[dict[str, str]]:
        """The role/content messages a call with these arguments sends to its backend (system prompt, tools
        offered, history in the tool-call encoding): what the server counts against the model's context."""
        return self._request(messages, None, kwargs)[0].messages

    def _request(self, messages: list[BaseMessage], stop: list[str] | None,
                 kwargs: dict[str, Any]) -> tuple[ChatRequest, bool]:
        """The backend request, and whether its reply is in the tool-call encoding (tool_calls.py)."""
        unknown = set(kwargs) - _CALL_PARAMS
        if unknown:
            raise InputError(f"unsupported generation parameter(s) for skill '{self.skill}': {', '.join(sorted(unknown))}")
        system = kwargs.get("system", self.system_prompt)
        schema = kwargs.get("json_schema", self.json_schema)
        tools = kwargs.get("tools") or []
        tooled = False
        if tools:
            choice = tc.normalize_choice(kwargs.get("tool_choice"), tools)
            tool_schema = tc.reply_schema(tools, choice)
            if tool_schema is not None:
                system = "\n\n".join(part for part in (system, tc.tools_prompt(tools, choice)) if part)
                schema, tooled = tool_schema, True
        labels = None if tooled else kwargs.get("labels", self.labels)
        timeout = kwargs.get("timeout", self.timeout)
        request = ChatRequest(
            messages=to_chat_messages(messages, system),
            temperature=float(kwargs.get("temperature", self.temperature)),
            top_p=float(kwargs.get("top_p", self.top_p)),
            seed=kwargs.get("seed"),
            max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
            stop=tuple(stop if stop is not None else self.stop),
            json_schema=schema,
            labels=tuple(labels) if labels else None,
            grounding=kwargs.get("grounding"),
            logprobs=bool(kwargs.get("logprobs", False)),
            top_logprobs=int(kwargs.get("top_logprobs") or 0),
            timeout=float(timeout) if timeout is not None else None,
            cancel=kwargs.get("cancel"),
        )
        return request, tooled

    def _complete_checked(self, request: ChatRequest, check: Callable[[str], Any], what: str) -> tuple[Completion, Any]:
        """Bounded retries: a max_tokens cut is the usual failure, so each retry doubles the budget."""
        failures = []
        for attempt in range(self.max_retries + 1):
            completion = self.backend.complete(request)
            try:
                return completion, check(completion.text)
            except OutputValidationError as exc:
                failures.append(str(exc))
                request.max_tokens *= 2
        raise OutputValidationError(f"skill '{self.skill}': no {what} after {self.max_retries + 1} attempts "
                                    f"(last: {failures[-1]}); raise max_tokens or simplify the {what.split()[-1]}")

    def _complete(self, request: ChatRequest) -> tuple[Completion, Any, str | None]:
        """(completion, parsed JSON or None, label or None): a remote backend cannot be constrained, so both are checked."""
        if request.json_schema is not None:
            # A free-text string may take at most the first budget in characters (about a quarter of it in
            # tokens), so a document whose strings run on still closes; retries double the tokens, not the bound,
            # so the bound's decoding index is built once.
            request.max_string = request.max_string or request.max_tokens
            completion, parsed = self._complete_checked(
                request, lambda text: parse_and_validate(text, request.json_schema), "schema-valid JSON")
            return completion, parsed, None
        if request.labels:
            completion, label = self._complete_checked(request, lambda text: check_label(text, request.labels),
                                                       "answer among the labels")
            completion.text = label
            return completion, None, label
        return self.backend.complete(request), None, None

    def _metadata(self, completion: Completion, parsed: Any = None, *, tool_call: bool = False,
                  label: str | None = None) -> dict[str, Any]:
        metadata = {"skill": self.skill, "model_name": self.model_name, "parsed": parsed,
                    "finish_reason": "tool_calls" if tool_call else completion.finish_reason}
        if completion.logprobs is not None:  # where langchain-openai puts them
            metadata["logprobs"] = {"content": completion.logprobs, "refusal": None}
        return metadata | ({"label": label} if label is not None else {})

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> AIMessage:
        request, tooled = self._request(messages, stop, kwargs)
        completion, parsed, label = self._complete(request)
        text, calls = tc.parse_reply(parsed) if tooled else (completion.text, [])
        return AIMessage(content=text, tool_calls=calls, usage_metadata=_usage(completion),
                         response_metadata=self._metadata(completion, None if tooled else parsed, tool_call=bool(calls),
                                                          label=label))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages, stop, kwargs))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        request, tooled = self._request(messages, stop, kwargs)
        if tooled:
            yield from self._stream_tool_reply(request, messages, stop, kwargs)
            return
        if request.json_schema is not None or request.labels:  # validated as a whole (JSON, labels)
            yield self._whole_chunk(self._reply(messages, stop, kwargs))
            return
        # Backends yield text deltas, then (local, OpenAI with usage) one Completion with the counts.
        completion = None
        for delta in self.backend.stream(request):
            if isinstance(delta, Completion):
                completion = delta
            elif delta:
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", chunk_position="last", usage_metadata=_usage(completion) if completion else None,
            response_metadata=self._metadata(completion or Completion(text=""))))

    def _stream_tool_reply(self, request: ChatRequest, messages: list[BaseMessage], stop: list[str] | None,
                           kwargs: dict[str, Any]) -> Iterator[ChatGenerationChunk]:
        """A reply in the tool-call encoding as it is decoded: the call's name and id first, then its arguments
        in pieces (tc.CallStream); an answer in words comes whole at the end. The reply is checked when it ends;
        one that fails before any piece was sent (cut by max_tokens) is retried whole, with doubled budgets."""
        request.max_string = request.max_string or request.max_tokens  # as _complete bounds free-text strings
        reader, completion = tc.CallStream(), None
        for delta in self.backend.stream(request):
            if isinstance(delta, Completion):
                completion = delta
            else:  # one tool_call_chunk a message: parts of one index in one message would not merge
                for part in reader.feed(delta):
                    yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[part]))
        try:
            parsed = parse_and_validate(reader.text, request.json_schema)
        except OutputValidationError:
            if reader.call_id is not None:
                raise
            yield self._whole_chunk(self._reply(messages, stop, kwargs))
            return
        completion = completion or Completion(text=reader.text)
        text = "" if reader.call_id is not None else tc.parse_reply(parsed)[0]
        yield ChatGenerationChunk(message=AIMessageChunk(
            content=text, tool_call_chunks=reader.finish(), chunk_position="last", usage_metadata=_usage(completion),
            response_metadata=self._metadata(completion, tool_call=reader.call_id is not None)))

    def _whole_chunk(self, whole: AIMessage) -> ChatGenerationChunk:
        """A reply checked as a whole, as the stream's one chunk."""
        chunks = [{"name": call["name"], "args": json.dumps(call["args"], ensure_ascii=False), "id": call["id"],
                   "index": i, "type": "tool_call_chunk"} for i, call in enumerate(whole.tool_calls)]
        return ChatGenerationChunk(message=AIMessageChunk(
            content=whole.content, tool_call_chunks=chunks, response_metadata=whole.response_metadata,
            usage_metadata=whole.usage_metadata, chunk_position="last"))

    def with_structured_output(self, schema: Any = None, *, method: str = "json_schema", include_raw: bool = False,
                               strict: bool | None = None, **kwargs: Any) -> Runnable:
        """Answers parsed into schema (a JSON Schema dict, pydantic v1/v2 class, TypedDict); decoding is
        constrained to it whatever the method (strict is therefore always on). With no schema, a JSON
        skill's own schema is used; method "json_mode" without a schema means any JSON object.
        """
        from langchain_core.utils.pydantic import is_basemodel_subclass

        if kwargs:
            raise InputError(f"with_structured_output got unknown argument(s) {', '.join(sorted(kwargs))}")
        if method not in STRUCTURED_METHODS:
            raise InputError(f"method must be one of {', '.join(STRUCTURED_METHODS)}, got {method!r}")
        if schema is None and self.json_schema is None and method != "json_mode":
            raise InputError(f"skill '{self.skill}' has no JSON Schema; pass one to with_structured_output")
        schema_dict = (self.json_schema or {"type": "object"}) if schema is None else schema_from(schema)
        pydantic_class = schema if isinstance(schema, type) and is_basemodel_subclass(schema) else None

        def parse(message: AIMessage) -> Any:
            value = message.response_metadata.get("parsed")
            if value is None:
                value = json.loads(content_text(message.content))
            if pydantic_class is None:
                return value
            # pydantic v2 classes validate with model_validate, pydantic.v1 ones with parse_obj.
            return (pydantic_class.model_validate(value) if hasattr(pydantic_class, "model_validate")
                    else pydantic_class.parse_obj(value))

        # Tracing (and LangChain's standard tests) read what was asked for from ls_structured_output_format.
        bound = self.bind(json_schema=schema_dict, ls_structured_output_format={
            "kwargs": {"method": method, "strict": strict}, "schema": schema if schema is not None else schema_dict})
        if not include_raw:
            return bound | RunnableLambda(parse)

        def parse_raw(message: AIMessage) -> dict[str, Any]:
            try:
                return {"raw": message, "parsed": parse(message), "parsing_error": None}
            except Exception as exc:  # include_raw promises the error instead of raising it
                return {"raw": message, "parsed": None, "parsing_error": exc}

        return bound | RunnableLambda(parse_raw)


def _usage(completion: Completion) -> dict[str, int]:
    return {"input_tokens": completion.prompt_tokens, "output_tokens": completion.completion_tokens,
            "total_tokens": completion.prompt_tokens + completion.completion_tokens}
