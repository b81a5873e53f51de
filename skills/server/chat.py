"""POST /v1/chat/completions: a validated request becomes one call of a local skill's chat model.

Turns the typed body (schemas.py) into LangChain messages and generation arguments, bounds what
the body alone cannot (message count and characters, prompt tokens against the model's context,
max_tokens against what is left of it and the server's cap, schemas decoding will follow), and answers
as OpenAI does, whole or as server-sent events. Tool calling is the chat model's own (bind_tools'
encoding, skills/tool_calls.py): OpenAI's `tools` / `tool_choice` go in, its `tool_calls` come out
(finish_reason "tool_calls"; streamed as OpenAI does: the call's id and name, then its arguments in
pieces), and an assistant's calls and the tools' results in the history go back in.
A stream stops generating when its client goes away: the events are pulled from the model on a helper
thread that closes the model's stream, which stops the engine at the next token. A whole (non-streamed)
reply is awaited beside a watcher of the connection: a client that leaves first sets the request's
cancel event, and the scheduler drops its row, queued or decoding, at the next step. Not here: auth
(auth.py), the error shape (errors.py), the bounds' values (options.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from skillstack.errors import InputError, RequestCancelled, SkillError, SkillstackError
from skillstack.messages import content_text
from skillstack.settings import Settings
from skillstack.skills import tool_calls as tc
from skillstack.skills.chat_model import SkillChatModel
from skillstack.skills.runtime import BASE, get_runtime
from .errors import APIError, from_skillstack, stream_error_event
from .options import ServerOptions
from .schemas import UNSUPPORTED_CHAT_FIELDS, ChatCompletion, ChatCompletionRequest, ChatMessage, ToolCall


@dataclass(kw_only=True)
class PreparedChat:
    """A request checked and ready: the model it names and the call to make."""

    name: str
    model: SkillChatModel
    messages: list[Any]
    kwargs: dict[str, Any]


def resolve_model(settings: Settings, name: str) -> SkillChatModel:
    """The chat model behind a request's `model`: 'base', a local (peft) skill, or a skill's provenance model_id."""
    runtime = get_runtime(settings)
    if name != BASE:
        skills = runtime.discovery().skills
        by_id = {s.manifest.provenance.get("model_id"): s.name for s in skills.values()}
        name = by_id.get(name, name)
        if name in skills and skills[name].manifest.backend != "peft":
            raise SkillError(f"skill '{name}' is not local (backend {skills[name].manifest.backend}); not served here")
    return runtime.chat_model(name)


def _refuse_unsupported(body: ChatCompletionRequest) -> None:
    for field in UNSUPPORTED_CHAT_FIELDS:
        if getattr(body, field) not in (None, False, [], {}, "none"):
            raise APIError(400, f"'{field}' is not supported by this server yet.", param=field,
                           code="unsupported_parameter")
    if (body.n or 1) != 1:
        raise APIError(400, "Only n=1 is supported.", param="n", code="unsupported_value")


def langchain_messages(messages: list[ChatMessage], limits: ServerOptions) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    if len(messages) > limits.max_messages:
        raise APIError(400, f"Too many messages: {len(messages)}; the limit is {limits.max_messages}.",
                       param="messages", code="too_many_messages")
    out: list[Any] = []
    characters = 0
    names: dict[str, str] = {}  # tool call id -> the tool's name, so a tool result names the tool it answers
    for index, message in enumerate(messages):
        if message.tool_calls and message.role != "assistant":
            raise APIError(400, f"Only assistant messages carry tool_calls, not a '{message.role}' message.",
                           param=f"messages.[{index}].tool_calls", code="invalid_value")
        text = content_text(message.content if isinstance(message.content, str) or message.content is None
                            else [part.model_dump() for part in message.content])
        characters += len(text) + sum(len(call.function.arguments) for call in message.tool_calls or [])
        if message.role in ("system", "developer"):
            out.append(SystemMessage(text))
        elif message.role == "user":
            out.append(HumanMessage(text))
        elif message.role == "assistant":
            calls = [_history_call(call, f"messages.[{index}].tool_calls.[{j}].function.arguments")
                     for j, call in enumerate(message.tool_calls or [])]
            names |= {call["id"]: call["name"] for call in calls}
            out.append(AIMessage(text, tool_calls=calls))
        elif not message.tool_call_id:
            raise APIError(400, "A 'tool' message needs the tool_call_id of the call it answers.",
                           param=f"messages.[{index}].tool_call_id", code="missing_required_parameter")
        else:
            out.append(ToolMessage(text, tool_call_id=message.tool_call_id, name=names.get(message.tool_call_id)))
    if characters > limits.max_characters:
        raise APIError(400, f"Messages too long: {characters} characters; the limit is {limits.max_characters}.",
                       param="messages", code="context_length_exceeded")
    return out


def _history_call(call: ToolCall, param: str) -> dict[str, Any]:
    """An earlier assistant turn's OpenAI tool call as a LangChain one (arguments parsed)."""
    try:
        args = json.loads(call.function.arguments)
    except (ValueError, RecursionError):
        args = None
    if not isinstance(args, dict):
        raise APIError(400, "A tool call's arguments must be a JSON object encoded as a string.", param=param,
                       code="invalid_value")
    return {"name": call.function.name, "args": args, "id": call.id, "type": "tool_call"}


def _tools(body: ChatCompletionRequest) -> tuple[list[dict[str, Any]], str]:
    """The offered tools (their parameter schemas checked) and tool_choice in the chat model's spelling."""
    if not body.tools:
        raise APIError(400, "tool_choice is only allowed when tools are specified.", param="tool_choice",
                       code="invalid_value")
    tools = tc.openai_tools([tool.model_dump(exclude_none=True) for tool in body.tools])
    names = [tool["function"]["name"] for tool in tools]
    if len(set(names)) < len(names):
        raise APIError(400, "Tool names must be unique.", param="tools", code="invalid_value")
    for index, tool in enumerate(tools):
        if (parameters := tool["function"].get("parameters")) is not None:
            param = f"tools.[{index}].function.parameters"
            if parameters.get("type") != "object":
                raise APIError(400, f"Invalid schema for function '{names[index]}': parameters must be a JSON "
                                    "Schema of type 'object'.", param=param, code="invalid_function_parameters")
            _checked_schema(parameters, param, f"function '{names[index]}'")
    choice = body.tool_choice.model_dump() if hasattr(body.tool_choice, "model_dump") else body.tool_choice
    try:
        return tools, tc.normalize_choice(choice, tools)
    except InputError as exc:
        raise APIError(400, str(exc), param="tool_choice", code="invalid_value") from None


def _logprobs(body: ChatCompletionRequest) -> dict[str, Any]:
    """The chat model's logprobs arguments, or a 400 as OpenAI gives for top_logprobs without logprobs."""
    if body.top_logprobs and not body.logprobs:
        raise APIError(400, "top_logprobs needs logprobs set to true.", param="top_logprobs", code="invalid_value")
    if not body.logprobs:
        return {}
    if body.stream:
        raise APIError(400, "logprobs are not streamed by this server yet; send the request without stream.",
                       param="logprobs", code="unsupported_parameter")
    return {"logprobs": True, "top_logprobs": body.top_logprobs or 0}


def _json_schema(body: ChatCompletionRequest) -> dict[str, Any] | None:
    """The schema response_format asks for, checked."""
    fmt = body.response_format
    if fmt is None or fmt.type == "text":
        return None
    schema = {"type": "object"} if fmt.type == "json_object" else (fmt.json_schema.json_schema or {"type": "object"})
    return _checked_schema(schema, "response_format.json_schema.schema", "response_format")


def _checked_schema(schema: dict[str, Any], param: str, what: str) -> dict[str, Any]:
    """A schema decoding must follow, checked now: one the constraint cannot build is the client's error."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from outlines_core.json_schema import build_regex_from_schema

    try:
        Draft202012Validator.check_schema(schema)
        build_regex_from_schema(json.dumps(schema))
    except (SchemaError, ValueError, TypeError, RecursionError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise APIError(400, f"Invalid schema for {what}: {message[:300]}", param=param,
                       code="invalid_json_schema") from None
    return schema


def _context_size(engine: Any) -> int:
    config = engine.model.config
    return int(getattr(config, "max_position_embeddings", 0) or engine.tokenizer.model_max_length)


def prepare(settings: Settings, body: ChatCompletionRequest, limits: ServerOptions) -> PreparedChat:
    """Check everything about the request that can be checked before a token is generated."""
    _refuse_unsupported(body)
    try:
        model = resolve_model(settings, body.model)
    except SkillstackError as exc:
        raise from_skillstack(exc) from None
    messages = langchain_messages(body.messages, limits)
    kwargs: dict[str, Any] = {}
    if body.temperature is not None:
        kwargs["temperature"] = body.temperature
    if body.top_p is not None:
        kwargs["top_p"] = body.top_p
    if body.seed is not None:
        kwargs["seed"] = body.seed
    if (schema := _json_schema(body)) is not None:
        kwargs["json_schema"] = schema
    if body.tools or body.tool_choice is not None:
        kwargs["tools"], kwargs["tool_choice"] = _tools(body)
    kwargs.update(_logprobs(body))
    engine = get_runtime(settings).engine
    chat = model.prompt_messages(messages, **kwargs)
    prompt_tokens = len(engine.tokenizer.apply_chat_template(chat, tokenize=True, add_generation_prompt=True,
                                                            return_dict=True)["input_ids"])
    context = _context_size(engine)
    room = context - prompt_tokens
    if room < 1:
        raise APIError(400, f"This model's maximum context length is {context} tokens; the messages take "
                            f"{prompt_tokens}.", param="messages", code="context_length_exceeded")
    param = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
    requested = body.token_limit
    if requested is not None and limits.max_completion_tokens is not None and requested > limits.max_completion_tokens:
        raise APIError(400, f"{param} is {requested}; this server's limit is {limits.max_completion_tokens}.",
                       param=param, code="invalid_value")
    if requested is not None and requested > room:
        raise APIError(400, f"This model's maximum context length is {context} tokens; you requested "
                            f"{prompt_tokens + requested} ({prompt_tokens} in the messages, {requested} in the "
                            "completion).", param=param, code="context_length_exceeded")
    caps = [room] + ([limits.max_completion_tokens] if limits.max_completion_tokens else [])
    kwargs["max_tokens"] = requested or min([model.max_tokens] + caps)
    return PreparedChat(name=body.model, model=model, messages=messages, kwargs=kwargs)


def complete(prepared: PreparedChat, body: ChatCompletionRequest,
             cancel: threading.Event | None = None) -> ChatCompletion:
    """The whole reply; setting cancel withdraws the request (RequestCancelled)."""
    try:
        message = prepared.model.invoke(prepared.messages, stop=body.stop_list, cancel=cancel, **prepared.kwargs)
    except RequestCancelled:
        raise
    except SkillstackError as exc:
        raise from_skillstack(exc) from None
    usage = message.usage_metadata or {}
    calls = tc.openai_tool_calls(message.tool_calls)
    answer = {"role": "assistant", "content": None if calls else content_text(message.content),
              "tool_calls": calls or None}
    return ChatCompletion.model_validate({
        "id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": prepared.name,
        "choices": [{"index": 0, "message": answer, "logprobs": message.response_metadata.get("logprobs"),
                     "finish_reason": message.response_metadata.get("finish_reason", "stop")}],
        "usage": _usage(usage)})


async def complete_while_connected(request: Any, prepared: PreparedChat,
                                   body: ChatCompletionRequest) -> ChatCompletion | None:
    """complete() on a worker thread; None when the client disconnected first (its generation is then stopped)."""
    from starlette.concurrency import run_in_threadpool

    cancel = threading.Event()
    answer = asyncio.ensure_future(run_in_threadpool(complete, prepared, body, cancel))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not answer.done():
        cancel.set()
    try:
        return await answer
    except RequestCancelled:
        return None


async def _disconnected(request: Any) -> None:
    """Returns when the client closes the connection (the body is read: the next ASGI message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _usage(usage: dict[str, Any]) -> dict[str, int]:
    prompt, completion = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


async def stream_events(request: Any, prepared: PreparedChat, body: ChatCompletionRequest) -> AsyncIterator[str]:
    """The reply as OpenAI's chat.completion.chunk events; stops the model when the client disconnects."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def event(choices: list[dict[str, Any]], **extra: Any) -> str:
        data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": prepared.name,
                "choices": choices} | extra
        return f"data: {json.dumps(data)}\n\n"

    def delta(content: dict[str, Any], finish: str | None = None) -> str:
        return event([{"index": 0, "delta": content, "finish_reason": finish}], **({"usage": None} if include_usage else {}))

    chunks = prepared.model.stream(prepared.messages, stop=body.stop_list, **prepared.kwargs)
    finish, usage = "stop", {}
    yield delta({"role": "assistant", "content": ""})
    try:
        async for chunk in pull_chunks(chunks):
            finish = chunk.response_metadata.get("finish_reason", finish)
            usage = chunk.usage_metadata or usage
            if text := content_text(chunk.content):
                yield delta({"content": text})
            if chunk.tool_call_chunks:
                yield delta({"tool_calls": [_call_delta(part) for part in chunk.tool_call_chunks]})
            if await request.is_disconnected():
                return
    except Exception as exc:  # headers are sent: the client learns of the failure in-band
        yield stream_error_event(exc, prepared.name)
        return
    yield delta({}, finish)
    if include_usage:
        yield event([], usage=_usage(usage))
    yield "data: [DONE]\n\n"


def _call_delta(part: dict[str, Any]) -> dict[str, Any]:
    """A LangChain tool_call_chunk as OpenAI's delta: the first names the call (id, type, name), the rest add
    arguments text."""
    function = {"arguments": part.get("args") or ""}
    if part.get("id") is None:
        return {"index": part.get("index") or 0, "function": function}
    return {"index": part.get("index") or 0, "id": part["id"], "type": "function",
            "function": {"name": part.get("name")} | function}


async def pull_chunks(chunks: Iterator[Any]) -> AsyncIterator[Any]:
    """Iterate a blocking iterator on its own thread; when the consumer stops early, the thread closes it."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def put(kind: str, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, (kind, value))
        except RuntimeError:  # the loop is gone: nobody is listening any more
            stop.set()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                put("chunk", chunk)
        except BaseException as exc:
            put("error", exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator: its finally blocks stop the engine
            put("end", None)

    threading.Thread(target=produce, name="skillstack-sse", daemon=True).start()
    try:
        while True:
            kind, value = await items.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
