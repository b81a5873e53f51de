"""Every validator finding code, each proven by a small file that triggers it at the right line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.training.data.findings import CODES
from skillstack.training.data.validate import validate_file


def chat(i: int, **extra) -> dict:
    return {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"question {i}"},
                         {"role": "assistant", "content": f"answer {i}"}], **extra}


def pref(i: int, **extra) -> dict:
    return {"input": {"messages": [{"role": "user", "content": f"question {i}"}]},
            "preferred_output": [{"role": "assistant", "content": f"good {i}"}],
            "non_preferred_output": [{"role": "assistant", "content": f"bad {i}"}], **extra}


def rft(i: int, **extra) -> dict:
    return {"messages": [{"role": "user", "content": f"what is {i}+{i}?"}], "answer": str(2 * i), **extra}


def line(obj) -> bytes:
    return json.dumps(obj).encode() + b"\n"


PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def with_message(i: int, message: dict) -> dict:
    example = chat(i)
    example["messages"].insert(1, message)
    return example


def body(bad: bytes, make=chat, good: int = 12) -> bytes:
    """Line 1 is the bad one; then `good` clean examples."""
    return bad + b"".join(line(make(i)) for i in range(good))


# code -> (file bytes, line where the finding must be, is it an error)
CASES: dict[str, tuple[bytes, int, bool]] = {
    "bom": (b"\xef\xbb\xbf" + body(b""), 1, False),
    "invalid_utf8": (body(b'{"messages": "\xff\xfe"}\n'), 1, True),
    "blank_line": (line(chat(99)) + b"\n" + body(b""), 2, True),
    "line_too_long": (body(b'{"x": "' + b"a" * 300 + b'"}\n'), 1, True),
    "invalid_json": (body(b'{"messages": [\n'), 1, True),
    "non_finite_number": (body(b'{"messages": [], "score": NaN}\n'), 1, True),
    "too_deep": (body(b"[" * 10_000 + b"]" * 10_000 + b"\n"), 1, True),
    "data_type": (body(b'["a list"]\n'), 1, True),
    "missing_messages_list": (body(line({"prompt": "hi"})), 1, True),
    "message_missing_key": (body(line(with_message(0, {"role": "user"}))), 1, True),
    "message_unrecognized_key": (body(line(with_message(0, {"role": "user", "content": "x", "mood": "sad"}))), 1, True),
    "unrecognized_role": (body(line(with_message(0, {"role": "narrator", "content": "x"}))), 1, True),
    "missing_content": (body(line(with_message(0, {"role": "user", "content": ""}))), 1, True),
    "example_missing_assistant_message": (body(line({"messages": [{"role": "user", "content": "hi"}]})), 1, True),
    "invalid_weight": (body(line({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0.5}]})), 1, True),
    "invalid_content_part": (body(line(with_message(0, {"role": "user", "content": [{"type": "audio", "data": "x"}]}))), 1, True),
    "invalid_image_url": (body(line(with_message(0, {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}))), 1, True),
    "image_in_assistant_message": (body(line(with_message(0, {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}))), 1, True),
    "invalid_tools": (body(line(chat(0, tools=[{"type": "function", "function": {"parameters": {}}}]))), 1, True),
    "invalid_tool_call": (body(line(with_message(0, {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {"name": "f"}}]}))), 1, True),
    "unrecognized_key": (body(line(chat(0, note="hello"))), 1, False),
    "missing_preferred_output": (body(line({"input": {"messages": [{"role": "user", "content": "q"}]}, "preferred_output": [{"role": "assistant", "content": "a"}]}), make=pref), 1, True),
    "identical_outputs": (body(line({"input": {"messages": [{"role": "user", "content": "q"}]}, "preferred_output": [{"role": "assistant", "content": "a"}], "non_preferred_output": [{"role": "assistant", "content": "a"}]}), make=pref), 1, False),
    "invalid_last_message": (body(line({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "answer": "4"}), make=rft), 1, True),
    "too_few_examples": (body(b"", good=9), 0, True),
    "few_examples": (body(b"", good=12), 0, False),
    "duplicate_example": (line(chat(3)) + body(b""), 5, False),
}
# Checked by tests of their own below (they need a tokenizer or a second file).
SEPARATE = {"too_many_tokens", "train_validation_overlap"}


def test_every_finding_code_has_a_test():
    assert set(CODES) == set(CASES) | SEPARATE


@pytest.mark.parametrize("code", sorted(CASES))
def test_finding_is_reported_at_its_line(code: str, tmp_path: Path):
    content, expected_line, is_error = CASES[code]
    path = tmp_path / "data.jsonl"
    path.write_bytes(content)
    report = validate_file(path, max_line_bytes=256 if code == "line_too_long" else 8 << 20,
                           format="reinforcement" if code == "invalid_last_message" else None)
    found = [f for f in (report.errors if is_error else report.warnings) if f.code == code]
    assert found, f"{code} not in {report.to_dict()}"
    assert found[0].line == expected_line
    assert found[0].message
    assert report.ok is not is_error


def test_train_validation_overlap_names_both_lines(tmp_path: Path):
    train, held = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    train.write_bytes(body(b""))
    held.write_bytes(line({"other": 1}) + line(chat(5)))
    report = validate_file(train, validation_path=held)
    overlap = [f for f in report.errors if f.code == "train_validation_overlap"]
    assert [f.line for f in overlap] == [6]
    assert "line 2 of val.jsonl" in overlap[0].message


def test_valid_vision_and_tool_examples_pass(tmp_path: Path):
    vision = with_message(0, {"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                                         {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}}]})
    tool = {"messages": [{"role": "user", "content": "weather?"},
                         {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
                         {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                         {"role": "assistant", "content": "Sunny.", "weight": 1}],
            "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]}
    path = tmp_path / "data.jsonl"
    path.write_bytes(line(vision) + line(tool) + body(b""))
    report = validate_file(path)
    assert report.ok, report.to_dict()
    assert report.examples == 14


def test_crlf_line_ends_are_accepted_and_a_final_newline_is_not_a_blank_line(tmp_path: Path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(body(b"").replace(b"\n", b"\r\n"))
    report = validate_file(path)
    assert report.ok and report.examples == 12


def test_ten_megabyte_line_is_a_finding_not_a_crash(tmp_path: Path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"messages": "' + b"x" * (10 * 1024 * 1024) + b'"}\n' + body(b""))
    report = validate_file(path)
    assert [f.code for f in report.errors] == ["line_too_long"]
    assert report.examples == 12
