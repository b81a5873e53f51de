"""OpenAI tool calling through a real `skillstack serve` child process: the `openai` SDK and ChatOpenAI.bind_tools.

A fixed tool set where the right call is obvious (the weather in a named city, the sum of two numbers),
on the local base model. Calls are forced (a tool's name, "required") wherever the answer is asserted:
the 135M model chooses poorly when free to, so "auto" is only checked for its shape.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from server_fixtures import KEY, free_port, launched

pytestmark = pytest.mark.slow

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ADD = {"type": "function", "function": {
    "name": "add", "description": "Add two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                   "required": ["a", "b"]}}}
TOOLS = [WEATHER, ADD]
PARIS = [{"role": "user", "content": "What is the weather in Paris?"}]
SUM = [{"role": "user", "content": "What is 2 plus 3?"}]


@pytest.fixture(scope="module")
def serve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`skillstack serve` as a user starts it (its own process, a key from $SKILLSTACK_API_KEYS); the /v1 URL."""
    home = tmp_path_factory.mktemp("serve-home")
    port = free_port()
    command = [sys.executable, "-m", "skillstack.cli.main", "--home", str(home), "serve", "--port", str(port)]
    with launched(command, f"http://127.0.0.1:{port}/health", env={"SKILLSTACK_API_KEYS": KEY},
                  log=home / "serve.log"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def sdk(serve_url: str):
    from openai import OpenAI

    return OpenAI(base_url=serve_url, api_key=KEY, max_retries=0, timeout=300)


def assert_call(name: str, arguments: str, expected: str | None = None) -> dict:
    """A call of one of TOOLS whose JSON arguments are valid under its schema; returns the arguments."""
    schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
    assert name in schemas and (expected is None or name == expected)
    args = json.loads(arguments)
    jsonschema.validate(args, schemas[name])
    return args


def test_a_forced_call_comes_back_in_openais_shape(sdk) -> None:
    reply = sdk.chat.completions.create(model="base", messages=PARIS, tools=TOOLS, max_tokens=48, temperature=0,
                                        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert assert_call(call.function.name, call.function.arguments, "get_weather") == {"city": "Paris"}
    assert reply.usage.completion_tokens > 0


def test_a_streamed_call_names_itself_first_then_streams_its_arguments_in_pieces(sdk) -> None:
    chunks = list(sdk.chat.completions.create(model="base", messages=SUM, tools=TOOLS, tool_choice="required",
                                              parallel_tool_calls=False, max_tokens=48, temperature=0, stream=True,
                                              stream_options={"include_usage": True}))
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    first, rest = deltas[0], deltas[1:]
    assert first.id.startswith("call_") and first.type == "function" and first.function.arguments == ""
    assert {d.index for d in deltas} == {0} and all(d.id is None and d.function.name is None for d in rest)
    assert len([d for d in rest if d.function.arguments]) > 1  # the arguments arrive as they are decoded
    assert_call(first.function.name, "".join(d.function.arguments for d in deltas))
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_auto_answers_in_words_or_with_a_valid_call(sdk) -> None:
    choice = sdk.chat.completions.create(model="base", messages=PARIS, tools=TOOLS, max_tokens=48,
                                         temperature=0).choices[0]
    if choice.message.tool_calls:
        assert choice.finish_reason == "tool_calls"
        assert_call(choice.message.tool_calls[0].function.name, choice.message.tool_calls[0].function.arguments)
    else:
        assert choice.finish_reason in ("stop", "length") and choice.message.content.strip()


def test_a_tool_result_in_the_history_is_read_for_the_answer(sdk) -> None:
    history = PARIS + [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 degrees"}]
    choice = sdk.chat.completions.create(model="base", messages=history, tools=TOOLS, tool_choice="none",
                                         max_tokens=24, temperature=0).choices[0]
    assert not choice.message.tool_calls and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")


@pytest.mark.parametrize(("bad", "param"), [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
     "tools.[0].function.parameters"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"a": {"type": "nonsense"}}}}}]}, "tools.[0].function.parameters"),
    ({"tools": [WEATHER, WEATHER]}, "tools"),
    ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "launch_rockets"}}}, "tool_choice"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"messages": PARIS + [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {
        "name": "get_weather", "arguments": "{not json"}}]}]}, "messages.[1].tool_calls.[0].function.arguments"),
    ({"messages": PARIS + [{"role": "tool", "content": "sunny"}]}, "messages.[1].tool_call_id"),
], ids=["non-object-parameters", "invalid-schema", "duplicate-names", "unknown-tool-choice", "choice-without-tools",
        "arguments-not-json", "tool-result-without-id"])
def test_bad_tool_requests_are_400s_naming_the_parameter(sdk, bad: dict, param: str) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(**({"model": "base", "messages": PARIS, "max_tokens": 8} | bad))
    assert caught.value.body["param"] == param and caught.value.body["message"]


def test_chat_openai_bind_tools_calls_through_the_server(serve_url: str) -> None:
    from langchain_core.messages import ToolMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=serve_url, api_key=KEY, model="base", temperature=0, max_tokens=48, max_retries=0)
    reply = llm.bind_tools(TOOLS, tool_choice="add").invoke("What is 2 plus 3?")
    [call] = reply.tool_calls
    assert call["name"] == "add" and call["id"].startswith("call_")
    jsonschema.validate(call["args"], ADD["function"]["parameters"])
    assert reply.response_metadata["finish_reason"] == "tool_calls"

    chunks = list(llm.bind_tools(TOOLS, tool_choice="get_weather").stream("What is the weather in Paris?"))
    assert len([c for c in chunks if any(part["args"] for part in c.tool_call_chunks)]) > 1
    streamed = sum(chunks[1:], chunks[0])
    assert streamed.tool_calls[0]["name"] == "get_weather" and streamed.tool_calls[0]["args"] == {"city": "Paris"}
    assert streamed.tool_calls[0]["id"].startswith("call_")

    answer = llm.bind_tools(TOOLS, tool_choice="none").invoke(
        ["What is 2 plus 3?", reply, ToolMessage("5", tool_call_id=call["id"])])
    assert not answer.tool_calls and answer.content.strip()
