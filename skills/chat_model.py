"""SkillChatModel: any skill (local adapter, base model, OpenAI, OpenAI-compatible) as a LangChain chat model.

Owns what is the same on every backend: the skill's system prompt, generation defaults and
per-call overrides, stop strings, JSON and label validation with bounded retries, streaming and
with_structured_output. Tokens come from a backend object (backends/).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict, Field

from skillstack.errors import InputError, OutputValidationError
from skillstack.messages import content_text
from .backends.requests import ChatRequest, Completion
from .structured import check_label, parse_and_validate, schema_from

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "user", "function": "user", "chat": "user"}




def to_chat_messages(messages: Sequence[BaseMessage], system_prompt: str) -> list[dict[str, str]]:
    """Role/content dicts with the skill's system prompt first; caller system messages are appended to it."""
    system = [system_prompt] if system_prompt else []
    chat: list[dict[str, str]] = []
    for message in messages:
        role = _ROLES.get(message.type, "user")
        if role == "system":
            system.append(content_text(message.content))
        else:
            chat.append({"role": role, "content": content_text(message.content)})
    if not chat:
        raise InputError("a chat request needs at least one user message")
    return ([{"role": "system", "content": "\n\n".join(system)}] if system else []) + chat


def _usage(completion: Completion) -> dict[str, int]:
    return {"input_tokens": completion.prompt_tokens, "output_tokens": completion.completion_tokens,
            "total_tokens": completion.prompt_tokens + completion.completion_tokens}


class SkillChatModel(BaseChatModel):
    """A skill as a chat model: invoke, stream, batch, with_structured_output; temperature 0 is greedy."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    skill: str = Field(description="Skill name, or 'base' for the base model without adapter.")
    backend: Any = Field(exclude=True, description="Where tokens come from (a backends/ object).")
    system_prompt: str = ""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] = Field(default_factory=list)
    json_schema: dict[str, Any] | None = Field(default=None, description="Every answer must be JSON valid under this schema.")
    labels: list[str] | None = Field(default=None, description="Every answer must be exactly one of these (classify skills).")
    max_retries: int = Field(default=2, description="Extra attempts (with doubled max_tokens) when JSON or label output fails validation.")

    @property
    def _llm_type(self) -> str:
        return "skillstack-skill"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"skill": self.skill, "temperature": self.temperature, "top_p": self.top_p,
                "max_tokens": self.max_tokens, "stop": self.stop}

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> ChatRequest:
        unknown = set(kwargs) - {"temperature", "top_p", "max_tokens", "json_schema", "labels", "system", "grounding"}
        if unknown:
            raise InputError(f"unsupported generation parameter(s) for skill '{self.skill}': {', '.join(sorted(unknown))}")
        system = kwargs.get("system", self.system_prompt)
        labels = kwargs.get("labels", self.labels)
        return ChatRequest(
            messages=to_chat_messages(messages, system),
            temperature=float(kwargs.get("temperature", self.temperature)),
            top_p=float(kwargs.get("top_p", self.top_p)),
            max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
            stop=tuple(stop if stop is not None else self.stop),
            json_schema=kwargs.get("json_schema", self.json_schema),
            labels=tuple(labels) if labels else None,
            grounding=kwargs.get("grounding"),
        )

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
            completion, parsed = self._complete_checked(
                request, lambda text: parse_and_validate(text, request.json_schema), "schema-valid JSON")
            return completion, parsed, None
        if request.labels:
            completion, label = self._complete_checked(request, lambda text: check_label(text, request.labels),
                                                       "answer among the labels")
            completion.text = label
            return completion, None, label
        return self.backend.complete(request), None, None

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        completion, parsed, label = self._complete(self._request(messages, stop, kwargs))
        metadata = {"skill": self.skill, "finish_reason": completion.finish_reason, "parsed": parsed}
        if label is not None:
            metadata["label"] = label
        message = AIMessage(
            content=completion.text,
            response_metadata=metadata,
            usage_metadata=_usage(completion),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs)
        if request.json_schema is not None or request.labels:  # validated as a whole, so it arrives as a whole
            result = self._generate(messages, stop, run_manager, **kwargs).generations[0].message
            yield ChatGenerationChunk(message=AIMessageChunk(content=result.content, usage_metadata=result.usage_metadata,
                                                             response_metadata=result.response_metadata))
            return
        summary: Completion | None = None
        for delta in self.backend.stream(request):
            if isinstance(delta, Completion):  # the backend's closing summary: finish reason and token counts
                summary = delta
                continue
            if run_manager:
                run_manager.on_llm_new_token(delta)
            yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
        metadata: dict[str, Any] = {"skill": self.skill}
        if summary is None:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata=metadata))
            return
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", response_metadata=metadata | {"finish_reason": summary.finish_reason},
            usage_metadata=_usage(summary)))

    def with_structured_output(self, schema: Any = None, *, include_raw: bool = False,
                               **kwargs: Any) -> Runnable:
        """Answers parsed into schema (a JSON Schema dict or pydantic class); decoding is constrained to it.

        With no schema, a JSON skill's own schema is used.
        """
        if schema is None and self.json_schema is None:
            raise InputError(f"skill '{self.skill}' has no JSON Schema; pass one to with_structured_output")
        schema_dict = self.json_schema if schema is None else schema_from(schema)
        pydantic_class = schema if hasattr(schema, "model_validate") else None

        def parse(message: AIMessage) -> Any:
            value = message.response_metadata.get("parsed")
            if value is None:
                value = json.loads(content_text(message.content))
            return pydantic_class.model_validate(value) if pydantic_class else value

        bound = self.bind(json_schema=schema_dict)
        if not include_raw:
            return bound | RunnableLambda(parse)

        def parse_raw(message: AIMessage) -> dict[str, Any]:
            try:
                return {"raw": message, "parsed": parse(message), "parsing_error": None}
            except Exception as exc:  # include_raw promises the error instead of raising it
                return {"raw": message, "parsed": None, "parsing_error": exc}

        return bound | RunnableLambda(parse_raw)
