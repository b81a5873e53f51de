"""The tool-call encoding: tool_choice spellings, the reply schema each choice allows, replies and history both ways."""

from __future__ import annotations

import json
import re

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from skillstack.errors import InputError
from skillstack.skills import tool_calls as tc
from skillstack.skills.chat_model import to_chat_messages
from skillstack.skills.structured import schema_errors


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Weather(BaseModel):
    """The weather in a city."""

    city: str


TOOLS = tc.openai_tools([add, Weather])


@pytest.mark.parametrize(("choice", "expected"), [
    (None, "auto"), ("auto", "auto"), ("any", "required"), ("required", "required"), (True, "required"),
    ("none", "none"), ("add", "add"), ({"type": "function", "function": {"name": "Weather"}}, "Weather"),
])
def test_every_spelling_of_tool_choice_is_understood(choice, expected) -> None:
    assert tc.normalize_choice(choice, TOOLS) == expected


@pytest.mark.parametrize("choice", ["subtract", 3, {"type": "function", "function": {"name": "nope"}}])
def test_a_tool_choice_naming_no_bound_tool_is_refused(choice) -> None:
    with pytest.raises(InputError, match="tool_choice"):
        tc.normalize_choice(choice, TOOLS)


def test_auto_allows_any_tool_call_or_a_text_answer_and_nothing_else() -> None:
    schema = tc.reply_schema(TOOLS, "auto")
    assert not schema_errors({"tool": "add", "arguments": {"a": 1, "b": 2}}, schema)
    assert not schema_errors({"tool": "Weather", "arguments": {"city": "Oslo"}}, schema)
    assert not schema_errors({"answer": "hello"}, schema)
    assert schema_errors({"tool": "add", "arguments": {"a": "one", "b": 2}}, schema)
    assert schema_errors({"tool": "subtract", "arguments": {}}, schema)


def test_required_forbids_a_text_answer_and_a_named_choice_allows_only_that_tool() -> None:
    assert schema_errors({"answer": "hello"}, tc.reply_schema(TOOLS, "required"))
    only_add = tc.reply_schema(TOOLS, "add")
    assert not schema_errors({"tool": "add", "arguments": {"a": 1, "b": 2}}, only_add)
    assert schema_errors({"tool": "Weather", "arguments": {"city": "Oslo"}}, only_add)
    assert schema_errors({"tool": "add", "arguments": {"a": 1}}, only_add)  # b is required


def test_none_offers_no_tool_so_the_reply_is_plain_text() -> None:
    assert tc.reply_schema(TOOLS, "none") is None and tc.tools_prompt(TOOLS, "none") == ""


def test_the_prompt_lists_the_offered_tools_with_their_parameters() -> None:
    prompt = tc.tools_prompt(TOOLS, "add")
    assert '"name": "add"' in prompt and "Weather" not in prompt and '"answer"' not in prompt
    assert '"answer"' in tc.tools_prompt(TOOLS, "auto")


def test_a_decoded_call_becomes_a_langchain_tool_call_and_an_answer_becomes_text() -> None:
    text, calls = tc.parse_reply({"tool": "add", "arguments": {"a": 1, "b": 2}})
    assert text == "" and calls[0]["name"] == "add" and calls[0]["args"] == {"a": 1, "b": 2}
    assert calls[0]["id"].startswith("call_") and calls[0]["type"] == "tool_call"
    assert tc.parse_reply({"answer": "hi"}) == ("hi", [])


def test_openai_tool_calls_carry_the_arguments_as_a_json_string() -> None:
    call = {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}
    [mapped] = tc.openai_tool_calls([call])
    assert mapped["id"] == "call_1" and mapped["type"] == "function"
    assert mapped["function"]["name"] == "add" and json.loads(mapped["function"]["arguments"]) == {"a": 1, "b": 2}


def test_tool_calls_and_results_in_history_are_rendered_in_the_reply_encoding() -> None:
    history = [HumanMessage("What is 1 + 2?"),
               AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}]),
               ToolMessage("3", name="add", tool_call_id="c1"),
               ToolMessage("boom", name="add", tool_call_id="c2", status="error")]
    rendered = to_chat_messages(history, "")
    assert [m["role"] for m in rendered] == ["user", "assistant", "user", "user"]
    assert json.loads(rendered[1]["content"]) == {"tool": "add", "arguments": {"a": 1, "b": 2}}
    assert rendered[2]["content"] == "Tool result for add (call c1): 3"
    assert "(error)" in rendered[3]["content"]


def test_the_decoder_bounds_free_strings_and_leaves_numeric_bounds_to_the_range_regex() -> None:
    from skillstack.skills.schema_bounds import bounded_regex
    from skillstack.skills.structured import _WHITESPACE, decoding_schema

    schema = {"type": "object", "properties": {
        "n": {"type": "integer", "exclusiveMinimum": -3, "exclusiveMaximum": 3}, "m": {"type": "integer", "minimum": 0},
        "free": {"type": "string"}, "id": {"type": "string", "pattern": "^[a-z]+$"}, "kind": {"enum": ["a", "b"]}}}
    props = decoding_schema(schema, 8)["properties"]
    assert props["n"] == schema["properties"]["n"] and props["m"] == {"type": "integer", "minimum": 0}
    assert props["free"] == {"type": "string", "maxLength": 8} and "maxLength" not in props["id"]
    assert props["kind"] == {"enum": ["a", "b"]}
    # the bounds live in the decoding regex itself (schema_bounds), so a forced tool call cannot break them
    one = re.compile(bounded_regex({"type": "integer", "exclusiveMinimum": -3, "exclusiveMaximum": 3}, _WHITESPACE))
    assert [n for n in range(-6, 7) if one.fullmatch(str(n))] == [-2, -1, 0, 1, 2]


def test_a_call_read_as_decoded_names_itself_then_sends_exactly_its_arguments_in_pieces() -> None:
    arguments = {"city": "Pa}ris", "when": {"day": 1}}
    reply = json.dumps({"tool": "get_weather", "arguments": arguments}) + " "
    reader = tc.CallStream()
    chunks = [chunk for char in reply for chunk in reader.feed(char)] + reader.finish()
    assert chunks[0]["name"] == "get_weather" and chunks[0]["id"].startswith("call_") and chunks[0]["args"] == ""
    assert all(c["name"] is None and c["id"] is None for c in chunks[1:]) and len(chunks) > 2
    assert json.loads("".join(c["args"] for c in chunks)) == arguments


def test_an_answer_in_words_read_as_decoded_sends_no_call_chunk() -> None:
    reader = tc.CallStream()
    assert reader.feed('{"answer": "') == [] and reader.feed('3"}') == [] and reader.finish() == []
    assert reader.call_id is None and reader.text == '{"answer": "3"}'
