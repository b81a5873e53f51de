"""Per-example checks for each format: one parsed line in, (errors, warnings) out. Pure functions.

File-level rules (counts, duplicates, overlap, tokens) are in validate.py; JSON Lines rules in jsonl.py.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from skillstack.coerce import shown_value

from .findings import Finding
from .formats import CHAT, CHAT_KEYS, MESSAGE_KEYS, PREFERENCE, PREFERENCE_KEYS, ROLES

Result = tuple[list[Finding], list[Finding]]

_DATA_URL = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,(?P<data>[A-Za-z0-9+/=\s]+)$", re.S)
_IMAGE_DETAILS = (None, "auto", "low", "high")


def _kind(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


def check_image_url(value: Any) -> str | None:
    """Why an image_url part's payload is unusable, or None when it is fine."""
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        return "image_url must be an object with a string `url`"
    if value.get("detail") not in _IMAGE_DETAILS:
        return f"image_url.detail must be auto, low or high, got {shown_value(value.get('detail'))}"
    url = value["url"]
    if url.startswith(("https://", "http://")):
        return None if len(url) > len("https://x") else "image URL has no host"
    match = _DATA_URL.match(url) if url.startswith("data:") else None
    if match is None:
        return "image URL must be http(s):// or data:image/<png|jpeg|gif|webp>;base64,..."
    try:
        base64.b64decode(match.group("data"), validate=False)
    except (binascii.Error, ValueError):
        return "the data: URL's base64 payload does not decode"
    return None


def _check_content(content: Any, role: str, where: str, line: int, errors: list[Finding]) -> None:
    if isinstance(content, str):
        if not content.strip():
            errors.append(Finding(line, "missing_content", f"{where}: content is empty"))
        return
    if not isinstance(content, list):
        errors.append(Finding(line, "missing_content", f"{where}: content must be a string or a list of parts, got {_kind(content)}"))
        return
    useful = False
    for index, part in enumerate(content):
        spot = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            useful = useful or bool(part["text"].strip())
        elif kind == "image_url":
            useful = True
            if role == "assistant":
                errors.append(Finding(line, "image_in_assistant_message", f"{spot}: images belong in user or system messages"))
            problem = check_image_url(part.get("image_url"))
            if problem:
                errors.append(Finding(line, "invalid_image_url", f"{spot}: {problem}"))
        else:
            errors.append(Finding(line, "invalid_content_part",
                                  f"{spot}: expected {{\"type\": \"text\", \"text\": ...}} or {{\"type\": \"image_url\", ...}}"))
    if not useful:
        errors.append(Finding(line, "missing_content", f"{where}: content has no text or image"))


def _check_tool_calls(calls: Any, where: str, line: int, errors: list[Finding]) -> None:
    if not isinstance(calls, list) or not calls:
        errors.append(Finding(line, "invalid_tool_call", f"{where}: tool_calls must be a non-empty list"))
        return
    for index, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not (isinstance(function, dict) and isinstance(function.get("name"), str)
                and isinstance(function.get("arguments"), str) and call.get("type", "function") == "function"):
            errors.append(Finding(line, "invalid_tool_call",
                                  f"{where}.tool_calls[{index}]: need {{\"type\": \"function\", \"function\": {{\"name\", \"arguments\" (a JSON string)}}}}"))


def check_messages(messages: Any, line: int, where: str = "messages") -> list[Finding]:
    """Errors in one message list (OpenAI's message-level classes plus weight, parts, images, tool calls)."""
    errors: list[Finding] = []
    if not isinstance(messages, list) or not messages:
        errors.append(Finding(line, "missing_messages_list", f"`{where}` must be a non-empty list of messages"))
        return errors
    for index, message in enumerate(messages):
        spot = f"{where}[{index}]"
        if not isinstance(message, dict):
            errors.append(Finding(line, "data_type", f"{spot} must be an object, got {_kind(message)}"))
            continue
        role = message.get("role")
        calls = "tool_calls" in message or "function_call" in message
        if "role" not in message or ("content" not in message and not (role == "assistant" and calls)):
            missing = "role" if "role" not in message else "content"
            errors.append(Finding(line, "message_missing_key", f"{spot}: missing `{missing}`"))
        unknown = sorted(set(message) - MESSAGE_KEYS)
        if unknown:
            errors.append(Finding(line, "message_unrecognized_key", f"{spot}: unrecognized key(s) {_key_names(unknown)}"))
        if "role" in message and role not in ROLES:
            errors.append(Finding(line, "unrecognized_role", f"{spot}: role {shown_value(role)} is not one of {', '.join(ROLES)}"))
        if "content" in message and not (message["content"] is None and role == "assistant" and calls):
            _check_content(message["content"], str(role), spot, line, errors)
        if "weight" in message:
            weight = message["weight"]
            if role != "assistant" or isinstance(weight, bool) or weight not in (0, 1):
                errors.append(Finding(line, "invalid_weight", f"{spot}: weight must be 0 or 1 on an assistant message, got {shown_value(weight)}"))
        if "tool_calls" in message:
            _check_tool_calls(message["tool_calls"], spot, line, errors)
    return errors


def _check_tools(tools: Any, line: int) -> list[Finding]:
    ok = isinstance(tools, list) and all(
        isinstance(tool, dict) and tool.get("type", "function") == "function" and isinstance(tool.get("function"), dict)
        and isinstance(tool["function"].get("name"), str) and isinstance(tool["function"].get("parameters", {}), dict)
        for tool in tools)
    return [] if ok else [Finding(line, "invalid_tools", "tools must be a list of {\"type\": \"function\", \"function\": {\"name\", \"parameters\"}}")]


def _key_names(keys: list[str], shown: int = 5) -> str:
    """Key names for a finding: each quoted and cut short, at most `shown` of them (hostile keys hold newlines, megabytes)."""
    names = ", ".join(shown_value(key) for key in keys[:shown])
    return names + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def _unknown_keys(example: dict[str, Any], allowed: frozenset[str], line: int) -> list[Finding]:
    unknown = sorted(set(example) - allowed)
    return [Finding(line, "unrecognized_key", f"top-level key(s) {_key_names(unknown)} ignored")] if unknown else []


def _check_conversation(container: Any, line: int, where: str = "messages") -> list[Finding]:
    """A message list plus the optional `tools` beside it (chat rows, reinforcement rows, DPO inputs)."""
    messages = container.get("messages") if isinstance(container, dict) else None
    errors = check_messages(messages, line, where)
    if isinstance(container, dict) and "tools" in container:
        errors += _check_tools(container["tools"], line)
    return errors


def check_chat(example: dict[str, Any], line: int) -> Result:
    errors = _check_conversation(example, line)
    if isinstance(example.get("messages"), list) and example["messages"] and \
            not any(isinstance(m, dict) and m.get("role") == "assistant" for m in example["messages"]):
        errors.append(Finding(line, "example_missing_assistant_message", "no assistant message; add the answer to learn"))
    return errors, _unknown_keys(example, CHAT_KEYS, line)


def check_preference(example: dict[str, Any], line: int) -> Result:
    errors = _check_conversation(example.get("input"), line, "input.messages")
    warnings = _unknown_keys(example, PREFERENCE_KEYS, line)
    outputs = []
    for key in ("preferred_output", "non_preferred_output"):
        output = example.get(key)
        if not isinstance(output, list) or not output:
            errors.append(Finding(line, "missing_preferred_output", f"`{key}` must be a non-empty list with one assistant message"))
            continue
        errors += check_messages(output, line, key)
        for index, message in enumerate(output):
            if isinstance(message, dict) and message.get("role") not in (None, "assistant"):
                errors.append(Finding(line, "unrecognized_role", f"{key}[{index}]: outputs must be assistant messages"))
        outputs.append(output)
    if len(outputs) == 2 and outputs[0] == outputs[1]:
        warnings.append(Finding(line, "identical_outputs", "preferred and non-preferred outputs are identical; nothing to learn"))
    return errors, warnings


def check_reinforcement(example: dict[str, Any], line: int) -> Result:
    errors = _check_conversation(example, line)
    messages = example.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if isinstance(last, dict) and last.get("role") not in ("user", "system", "developer"):
        errors.append(Finding(line, "invalid_last_message", "the prompt must end with a user message; the model writes the answer"))
    return errors, []


_CHECKS = {CHAT: check_chat, PREFERENCE: check_preference}


def check_example(example: Any, line: int, fmt: str) -> Result:
    """All per-example findings for one parsed line under the given format."""
    if not isinstance(example, dict):
        return [Finding(line, "data_type", f"each line must be a JSON object, got {_kind(example)}")], []
    return _CHECKS.get(fmt, check_reinforcement)(example, line)
