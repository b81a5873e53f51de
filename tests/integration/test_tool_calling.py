"""Tool calling on the real local base model: a forced tool call is always schema-valid, whatever the model's skill.

A fixed tool set where the right call is obvious. The 135M base model chooses poorly when free to
("auto"), so only the mechanism is asserted there: a text answer or a valid call, nothing else.
"""

from __future__ import annotations

import jsonschema
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool

from skillstack.skills import tool_calls as tc

pytestmark = pytest.mark.slow


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return "sunny"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


TOOLS = [get_weather, add]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in tc.openai_tools(TOOLS)}


@pytest.fixture(scope="module")
def chat(shared_settings):
    from skillstack.skills.runtime import chat_model

    return chat_model(shared_settings, "base", max_tokens=32)


def assert_valid_call(call: dict) -> None:
    assert call["name"] in SCHEMAS and call["id"] and call["type"] == "tool_call"
    jsonschema.validate(call["args"], SCHEMAS[call["name"]])


@pytest.mark.parametrize(("question", "choice"), [("What is the weather in Paris?", "get_weather"),
                                                  ("What is 2 plus 3?", "add"),
                                                  ("What is 2 plus 3?", "any")])
def test_a_forced_tool_call_has_schema_valid_arguments(chat, question, choice):
    reply = chat.bind_tools(TOOLS, tool_choice=choice).invoke(question)
    assert len(reply.tool_calls) == 1 and reply.content == ""
    assert_valid_call(reply.tool_calls[0])
    if choice != "any":
        assert reply.tool_calls[0]["name"] == choice


def test_the_obvious_arguments_are_copied_from_the_question(chat):
    reply = chat.bind_tools(TOOLS, tool_choice="get_weather").invoke("What is the weather in Paris?")
    assert reply.tool_calls[0]["args"] == {"city": "Paris"}


def test_a_streamed_forced_call_arrives_as_tool_call_chunks(chat):
    chunks = list(chat.bind_tools(TOOLS, tool_choice="add").stream("What is 2 plus 3?"))
    assert chunks[0].tool_call_chunks and chunks[-1].chunk_position == "last"
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert_valid_call(full.tool_calls[0])


def test_auto_gives_either_words_or_a_valid_call_and_reads_a_tool_result(chat):
    question = HumanMessage("What is the weather in Paris?")
    first = chat.bind_tools(TOOLS).invoke([question])
    for call in first.tool_calls:
        assert_valid_call(call)
    assert first.tool_calls or first.content.strip()
    if first.tool_calls:
        result = ToolMessage("sunny, 21 degrees", tool_call_id=first.tool_calls[0]["id"], name="get_weather")
        second = chat.bind_tools(TOOLS, tool_choice="none").invoke([question, first, result])
        assert second.content.strip() and not second.tool_calls
