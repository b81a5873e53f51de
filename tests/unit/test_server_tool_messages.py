"""The server's mapping of OpenAI tool calling onto the chat model's, without a model: history in, tools checked."""

from __future__ import annotations

import json

import pytest

from skillstack.skills.server.chat import langchain_messages, _tools
from skillstack.skills.server.errors import APIError
from skillstack.skills.server.options import ServerOptions
from skillstack.skills.server.schemas import ChatCompletionRequest

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def request(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": "base", "messages": [{"role": "user", "content": "hi"}]}
                                                | fields)


def test_an_assistant_call_and_its_tool_result_become_langchain_messages_naming_the_tool() -> None:
    body = request(messages=[
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_7", "type": "function", "function": {
            "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]},
        {"role": "tool", "tool_call_id": "call_7", "content": "sunny"}])
    _, assistant, result = langchain_messages(body.messages, ServerOptions())
    assert assistant.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_7",
                                     "type": "tool_call"}]
    assert (result.type, result.tool_call_id, result.name, result.content) == ("tool", "call_7", "get_weather", "sunny")


@pytest.mark.parametrize(("choice", "expected"), [
    (None, "auto"), ("auto", "auto"), ("required", "required"), ("none", "none"),
    ({"type": "function", "function": {"name": "get_weather"}}, "get_weather")])
def test_tool_choice_arrives_in_the_chat_models_spelling(choice, expected) -> None:
    tools, normalized = _tools(request(tools=[WEATHER], tool_choice=choice))
    assert normalized == expected and tools[0]["function"]["name"] == "get_weather"


@pytest.mark.parametrize(("fields", "param"), [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}]},
     "tools.[0].function.parameters"),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
    ({"tool_choice": "auto"}, "tool_choice"),
])
def test_unusable_tools_are_refused_naming_the_parameter(fields, param) -> None:
    with pytest.raises(APIError) as caught:
        _tools(request(**fields))
    assert caught.value.status == 400 and caught.value.param == param


def test_a_deeply_nested_parameters_schema_is_a_400_not_a_crash() -> None:
    deep: dict = {"type": "object"}
    for _ in range(5000):
        deep = {"type": "object", "properties": {"a": deep}}
    with pytest.raises(APIError) as caught:
        _tools(request(tools=[{"type": "function", "function": {"name": "f", "parameters": deep}}]))
    assert caught.value.param == "tools.[0].function.parameters"
