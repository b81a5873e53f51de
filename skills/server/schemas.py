"""The server's request and response bodies, as pydantic models mirroring OpenAI's API reference.

Ranges are OpenAI's (temperature 0..2, top_p (0, 1], max_tokens >= 1, up to 4 stop strings);
FastAPI validates every body against them before a handler runs and publishes them in /openapi.json.
Fields OpenAI defines that this server does not implement are declared, so they are recognised,
and refused by the handler with a 400 naming them; fields OpenAI does not define are rejected as
OpenAI rejects them ("Unrecognized request argument"). Not here: limits that depend on the server's
configuration or the model (message counts, prompt tokens: chat.py), nor the error shape (errors.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_STRICT = ConfigDict(extra="forbid")


class TextPart(BaseModel):
    """A text part of a message's content (the only part type a text model takes)."""

    model_config = _STRICT
    type: Literal["text"]
    text: str


_FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"


class FunctionCall(BaseModel):
    model_config = _STRICT
    name: str = Field(pattern=_FUNCTION_NAME)
    arguments: str = Field(description="The call's arguments as a JSON object, encoded as a string.")


class ToolCall(BaseModel):
    """One tool call of an assistant message (in a request's history, and in an answer)."""

    model_config = _STRICT
    id: str = Field(min_length=1, max_length=256)
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    """One message of the conversation: an assistant's `tool_calls`, a tool's result (`tool_call_id`)."""

    model_config = _STRICT
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = Field(default=None, max_length=64)
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = Field(default=None, max_length=256)
    refusal: str | None = None


class FunctionDefinition(BaseModel):
    model_config = _STRICT
    name: str = Field(pattern=_FUNCTION_NAME)
    description: str | None = None
    parameters: dict[str, Any] | None = Field(default=None, description="The arguments' JSON Schema (an object).")
    strict: bool | None = None


class Tool(BaseModel):
    """A tool the model may call (OpenAI's function tools; arguments are decoded under `parameters`)."""

    model_config = _STRICT
    type: Literal["function"]
    function: FunctionDefinition


class FunctionName(BaseModel):
    model_config = _STRICT
    name: str = Field(pattern=_FUNCTION_NAME)


class NamedToolChoice(BaseModel):
    model_config = _STRICT
    type: Literal["function"]
    function: FunctionName


class JsonSchemaFormat(BaseModel):
    model_config = _STRICT
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    # `schema` shadows a BaseModel attribute; the alias keeps OpenAI's field name on the wire.
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextFormat(BaseModel):
    model_config = _STRICT
    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    model_config = _STRICT
    type: Literal["json_object"]


class JsonSchemaResponseFormat(BaseModel):
    model_config = _STRICT
    type: Literal["json_schema"]
    json_schema: JsonSchemaFormat


ResponseFormat = Annotated[TextFormat | JsonObjectFormat | JsonSchemaResponseFormat, Field(discriminator="type")]


class StreamOptions(BaseModel):
    model_config = _STRICT
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


# OpenAI parameters this server recognises but does not implement: a request that sets one is refused
# with a 400 naming it, instead of silently answering as if it had been honoured.
UNSUPPORTED_CHAT_FIELDS = ("functions", "function_call", "logit_bias", "audio", "modalities", "prediction",
                           "web_search_options")


class ChatCompletionRequest(BaseModel):
    """POST /v1/chat/completions."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"model": "base", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 4},
        {"model": "base", "messages": [{"role": "system", "content": "Answer in JSON."},
                                       {"role": "user", "content": [{"type": "text", "text": "Is it up?"}]}],
         "max_completion_tokens": 4, "stream": True, "stream_options": {"include_usage": True},
         "response_format": {"type": "json_schema", "json_schema": {"name": "status", "schema": {
             "type": "object", "properties": {"up": {"type": "boolean"}}, "required": ["up"]}}}, "stop": ["}"]}]})
    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1, le=128)
    stop: str | list[str] | None = None
    seed: int | None = None
    response_format: ResponseFormat | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    # Accepted and ignored, as they change no token of a local model's answer.
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None
    # Tool calling (skills/tool_calls.py): one call per reply, so parallel_tool_calls is accepted either way.
    tools: list[Tool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    # Each answer token's log probability and its likeliest alternatives (not streamed: a 400 with stream).
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    # Recognised and refused (UNSUPPORTED_CHAT_FIELDS): tools' deprecated spelling, audio...
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    logit_bias: dict[str, float] | None = None
    audio: dict[str, Any] | None = None
    modalities: list[str] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None

    @field_validator("stop")
    @classmethod
    def _stop_strings(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    @property
    def stop_list(self) -> list[str] | None:
        if self.stop is None:
            return None
        return [s for s in ([self.stop] if isinstance(self.stop, str) else self.stop) if s]

    @property
    def token_limit(self) -> int | None:
        """max_completion_tokens (OpenAI's current name) or the deprecated max_tokens."""
        return self.max_completion_tokens or self.max_tokens


class EmbeddingRequest(BaseModel):
    """POST /v1/embeddings (text input only: token-id arrays need the server's tokenizer, which clients lack)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"model": "sentence-transformers/all-MiniLM-L6-v2", "input": ["right of access", "erasure"]}]})
    model: str = Field(min_length=1, max_length=256)
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(BaseModel):
    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "length", "tool_calls"]
    logprobs: ChoiceLogprobs | None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class Health(BaseModel):
    status: Literal["ok"] = "ok"
