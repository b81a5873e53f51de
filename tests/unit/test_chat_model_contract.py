"""SkillChatModel's LangChain contract on a scripted backend: arguments, tracing params, metadata, usage, tool calls."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from langchain_core.tools import tool

from skillstack.errors import InputError
from skillstack.skills.backends.requests import Backend, ChatRequest, Completion
from skillstack.skills.chat_model import SkillChatModel


class ScriptedBackend(Backend):
    """Answers every request with a fixed text, and keeps the requests it saw."""

    def __init__(self, text: str) -> None:
        self.text, self.requests = text, []

    def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        return Completion(text=self.text, prompt_tokens=7, completion_tokens=3)

    def stream(self, request: ChatRequest) -> Iterator[str | Completion]:
        self.requests.append(request)
        yield from (self.text[:2], self.text[2:])
        yield Completion(text="", prompt_tokens=7, completion_tokens=3)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def model(text: str = "Hello there", **kwargs) -> SkillChatModel:
    return SkillChatModel(skill="greeter", backend=ScriptedBackend(text), model="base-135m", **kwargs)


def test_an_unknown_constructor_argument_is_refused() -> None:
    with pytest.raises(InputError, match="unknown argument.*api_key"):
        model(api_key="sk-test")


def test_tracing_params_name_the_model_and_honour_a_per_call_override() -> None:
    params = model(max_tokens=10, stop=["x"])._get_ls_params()
    assert params == {"ls_provider": "skillstack", "ls_model_type": "chat", "ls_model_name": "base-135m",
                      "ls_temperature": 0.0, "ls_max_tokens": 10, "ls_stop": ["x"]}
    assert model()._get_ls_params(model="other")["ls_model_name"] == "other"


def test_replies_carry_the_model_name_and_usage_invoked_or_streamed() -> None:
    reply = model().invoke("hi")
    assert reply.response_metadata["model_name"] == "base-135m" and reply.usage_metadata["total_tokens"] == 10
    full = None
    for chunk in model().stream("hi"):
        full = chunk if full is None else full + chunk
    assert full.content == "Hello there" and full.response_metadata["model_name"] == "base-135m"
    assert full.usage_metadata == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}


def test_a_timeout_reaches_the_backend_request() -> None:
    chat = model(timeout=5)
    chat.invoke("hi")
    assert chat.backend.requests[-1].timeout == 5.0


def test_bound_tools_are_offered_in_the_prompt_and_the_reply_decodes_into_a_tool_call() -> None:
    chat = model(json.dumps({"tool": "add", "arguments": {"a": 1, "b": 2}}))
    reply = chat.bind_tools([add], tool_choice="add").invoke("What is 1 + 2?")
    request = chat.backend.requests[-1]
    assert '"name": "add"' in request.messages[0]["content"]
    assert request.json_schema["properties"]["tool"] == {"const": "add"}
    assert reply.content == "" and reply.tool_calls[0]["name"] == "add" and reply.tool_calls[0]["args"] == {"a": 1, "b": 2}
    assert reply.response_metadata["finish_reason"] == "tool_calls"


def test_a_streamed_tool_call_arrives_as_tool_call_chunks() -> None:
    chat = model(json.dumps({"tool": "add", "arguments": {"a": 1, "b": 2}}))
    chunks = list(chat.bind_tools([add], tool_choice="any").stream("What is 1 + 2?"))
    assert chunks[0].tool_call_chunks[0]["name"] == "add" and chunks[0].tool_call_chunks[0]["args"] == ""
    assert len([c for c in chunks if any(part["args"] for part in c.tool_call_chunks)]) > 1
    full = sum(chunks[1:], chunks[0])
    assert full.tool_calls == [{"name": "add", "args": {"a": 1, "b": 2}, "id": chunks[0].tool_call_chunks[0]["id"],
                                "type": "tool_call"}]
    assert full.response_metadata["finish_reason"] == "tool_calls" and full.usage_metadata["output_tokens"] == 3


class CutStream(ScriptedBackend):
    """Streams a reply cut before its call is named (max_tokens ran out); answers whole in full."""

    def stream(self, request: ChatRequest) -> Iterator[str | Completion]:
        self.requests.append(request)
        yield from ('{"tool": ', '"ad')
        yield Completion(text="", finish_reason="length")


def test_a_streamed_reply_cut_before_its_call_is_named_is_retried_whole() -> None:
    backend = CutStream(json.dumps({"tool": "add", "arguments": {"a": 1, "b": 2}}))
    chat = SkillChatModel(skill="greeter", backend=backend, model="base-135m")
    chunks = list(chat.bind_tools([add], tool_choice="any").stream("What is 1 + 2?"))
    assert sum(chunks[1:], chunks[0]).tool_calls[0]["args"] == {"a": 1, "b": 2} and len(backend.requests) == 2


def test_auto_lets_the_model_answer_in_words_and_none_offers_no_tool() -> None:
    reply = model(json.dumps({"answer": "3"})).bind_tools([add]).invoke("What is 1 + 2?")
    assert (reply.content, reply.tool_calls) == ("3", [])
    chat = model("plain words")
    assert chat.bind_tools([add], tool_choice="none").invoke("hi").content == "plain words"
    assert chat.backend.requests[-1].json_schema is None


def test_a_bad_tool_choice_is_refused_when_binding() -> None:
    with pytest.raises(InputError, match="tool_choice 'subtract'"):
        model().bind_tools([add], tool_choice="subtract")


def test_structured_output_reports_its_format_for_tracing_and_accepts_pydantic_v1() -> None:
    from pydantic.v1 import BaseModel as BaseModelV1

    class Joke(BaseModelV1):
        setup: str
        punchline: str

    chat = model(json.dumps({"setup": "s", "punchline": "p"}))
    assert isinstance(chat.with_structured_output(Joke).invoke("joke"), Joke)
    binding = chat.with_structured_output(Joke, method="function_calling").first
    assert binding.kwargs["ls_structured_output_format"]["kwargs"]["method"] == "function_calling"
    with pytest.raises(InputError, match="method must be one of"):
        chat.with_structured_output(Joke, method="xml")
