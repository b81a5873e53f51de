"""Tool calling for models without a native tool format: the tool-call encoding, both ways.

SmolLM2's chat template has no tool syntax (it prints `role` and `content` only), and a skill may run
on any backend, so tools travel as text and the reply is constrained JSON:
- the offered tools are listed in the system prompt as JSON ({name, description, parameters});
- the reply is ONE JSON object, `{"tool": NAME, "arguments": {...}}` to call a tool or
  `{"answer": "..."}` to answer in words. Decoding is constrained (skills/structured.py) to
  `reply_schema`: the anyOf of every tool's shape and the answer shape (tool_choice "auto"), of the
  tool shapes only ("any"/"required"), of one tool's shape (a tool name); with "none" no tool is
  offered. Each tool's `arguments` is its own parameters schema, so a forced call is always valid;
- history: an AIMessage's tool_calls render as that same JSON (what the model would have said), a
  ToolMessage as a user turn "Tool result for NAME (call ID): CONTENT".
One call per reply: a small model loses track of parallel calls. Streamed, `CallStream` reads the reply
as it is decoded: once `{"tool": NAME, "arguments":` is complete the call is announced (name, id), then
the arguments' JSON text follows piece by piece. The server maps OpenAI's `tools` / `tool_calls` with
`openai_tools` and `openai_tool_calls`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from skillstack.errors import InputError

AUTO, REQUIRED, NONE = "auto", "required", "none"
_CHOICE_ALIASES = {None: AUTO, AUTO: AUTO, "any": REQUIRED, REQUIRED: REQUIRED, True: REQUIRED, NONE: NONE}


def openai_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Tools in OpenAI's function format, from anything LangChain's bind_tools takes (BaseTool, function,
    pydantic class, TypedDict, OpenAI dict)."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    return [convert_to_openai_tool(tool) for tool in tools]


def normalize_choice(tool_choice: Any, tools: Sequence[dict[str, Any]]) -> str:
    """"auto", "required", "none" or a tool's name, from LangChain's and OpenAI's spellings of tool_choice."""
    names = [tool["function"]["name"] for tool in tools]
    if isinstance(tool_choice, dict):  # OpenAI's {"type": "function", "function": {"name": ...}}
        tool_choice = (tool_choice.get("function") or {}).get("name", tool_choice.get("name"))
    if isinstance(tool_choice, str) and tool_choice in names:
        return tool_choice
    if isinstance(tool_choice, (str, bool)) or tool_choice is None:
        if tool_choice in _CHOICE_ALIASES:
            return _CHOICE_ALIASES[tool_choice]
    raise InputError(f"tool_choice {tool_choice!r} is neither auto, any, required, none nor one of the tools "
                     f"({', '.join(names) or 'none bound'})")


def _call_shape(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool["function"]
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    return {"type": "object", "properties": {"tool": {"const": function["name"]}, "arguments": parameters},
            "required": ["tool", "arguments"], "additionalProperties": False}


_ANSWER_SHAPE = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
                 "additionalProperties": False}


def offered(tools: Sequence[dict[str, Any]], choice: str) -> list[dict[str, Any]]:
    """The tools the model may call under choice (none for "none", one for a tool's name)."""
    if choice == NONE:
        return []
    if choice in (AUTO, REQUIRED):
        return list(tools)
    return [tool for tool in tools if tool["function"]["name"] == choice]


def reply_schema(tools: Sequence[dict[str, Any]], choice: str) -> dict[str, Any] | None:
    """The JSON Schema every reply is decoded under; None when no tool is offered (plain text)."""
    shapes = [_call_shape(tool) for tool in offered(tools, choice)]
    if not shapes:
        return None
    if choice == AUTO:
        shapes.append(_ANSWER_SHAPE)
    return shapes[0] if len(shapes) == 1 else {"anyOf": shapes}


def tools_prompt(tools: Sequence[dict[str, Any]], choice: str) -> str:
    """The system-prompt text that offers the tools and says how to call one."""
    listed = offered(tools, choice)
    if not listed:
        return ""
    lines = ["You can call these tools:"]
    lines += [json.dumps({"name": t["function"]["name"], "description": t["function"].get("description", ""),
                          "parameters": t["function"].get("parameters", {})}, ensure_ascii=False) for t in listed]
    lines.append('To call a tool, reply with {"tool": NAME, "arguments": {...}}.')
    if choice == AUTO:
        lines.append('To answer without a tool, reply with {"answer": "your answer"}.')
    return "\n".join(lines)


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def parse_reply(value: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """A decoded reply as (text, LangChain tool calls): the answer's text, or one call with a fresh id."""
    if "tool" in value:
        return "", [{"name": value["tool"], "args": dict(value.get("arguments") or {}),
                     "id": new_call_id(), "type": "tool_call"}]
    return str(value.get("answer", "")), []


_CALL_HEAD = re.compile(r'\s*\{\s*"tool"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments"\s*:\s*(?=\S)')
_CLOSERS = " \t\r\n}"


class CallStream:
    """A tool-call reply read as it is decoded: `feed` returns the new LangChain tool_call_chunks.

    The first chunk of the call names the tool and its id with arguments ""; later ones carry the arguments'
    JSON text in pieces. Trailing `}` and blanks are held back, as one of them closes the whole reply, so the
    pieces joined are exactly the arguments object. An answer in words yields no chunk (see `text`)."""

    def __init__(self) -> None:
        self.text = ""  # the reply so far
        self.call_id: str | None = None  # set once the call is announced
        self._start = 0  # where the arguments begin in text
        self._sent = 0  # characters of the arguments already sent

    def feed(self, delta: str) -> list[dict[str, Any]]:
        self.text += delta
        chunks = []
        if self.call_id is None:
            head = _CALL_HEAD.match(self.text)
            if head is None:
                return []
            self.call_id, self._start = new_call_id(), head.end()
            chunks.append(self._chunk("", name=json.loads(head.group(1)), id=self.call_id))
        ready = self.text[self._start:].rstrip(_CLOSERS)
        return chunks + self._send(ready)

    def finish(self) -> list[dict[str, Any]]:
        """The arguments' last piece: everything before the reply's closing brace."""
        if self.call_id is None:
            return []
        rest = self.text[self._start:].rstrip()
        return self._send(rest[:-1].rstrip() if rest.endswith("}") else rest)

    def _send(self, ready: str) -> list[dict[str, Any]]:
        if len(ready) <= self._sent:
            return []
        piece, self._sent = ready[self._sent:], len(ready)
        return [self._chunk(piece)]

    def _chunk(self, args: str, *, name: str | None = None, id: str | None = None) -> dict[str, Any]:
        return {"name": name, "args": args, "id": id, "index": 0, "type": "tool_call_chunk"}


def tool_call_text(tool_calls: Sequence[dict[str, Any]]) -> str:
    """An earlier assistant turn's tool calls in the reply encoding, one JSON object a line."""
    return "\n".join(json.dumps({"tool": call["name"], "arguments": call.get("args") or {}}, ensure_ascii=False)
                     for call in tool_calls)


def tool_result_text(name: str | None, call_id: str | None, content: str, status: str = "success") -> str:
    """A ToolMessage as the user turn the model reads."""
    error = " (error)" if status == "error" else ""
    return f"Tool result for {name or 'the tool'} (call {call_id or '?'}){error}: {content}"


def openai_tool_calls(tool_calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """LangChain tool calls as OpenAI chat-completion `tool_calls` (arguments as a JSON string)."""
    return [{"id": call["id"], "type": "function",
             "function": {"name": call["name"], "arguments": json.dumps(call.get("args") or {}, ensure_ascii=False)}}
            for call in tool_calls]
