"""The token limit (real base-model tokenizer), load_examples for trainers, and the `data validate` CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.cli.main import main
from skillstack.errors import DatasetError
from skillstack.training.data.validate import load_examples, validate_file


def write(path: Path, examples: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in examples), encoding="utf-8")
    return path


def chat(i: int, answer: str = "fine") -> dict:
    return {"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": answer}]}


@pytest.fixture(scope="module")
def tokenizer(shared_settings):
    from skillstack.models import load_tokenizer

    return load_tokenizer(shared_settings)


def test_example_over_the_token_limit_is_an_error_unless_truncating(tmp_path: Path, tokenizer):
    path = write(tmp_path / "d.jsonl", [chat(i) for i in range(11)] + [chat(99, "word " * 200)])
    strict = validate_file(path, tokenizer=tokenizer, max_tokens=100)
    assert [(f.line, f.code) for f in strict.errors] == [(12, "too_many_tokens")]
    exact = validate_file(path, tokenizer=tokenizer, max_tokens=100, exact_tokens=True)
    assert exact.tokens[0] < 100 < exact.tokens[-1] and exact.errors == strict.errors
    lenient = validate_file(path, tokenizer=tokenizer, max_tokens=100, truncate=True)
    assert lenient.ok and "too_many_tokens" in {f.code for f in lenient.warnings}


def test_load_examples_refuses_a_file_with_errors_and_points_at_the_validator(tmp_path: Path):
    path = write(tmp_path / "d.jsonl", [chat(i) for i in range(10)] + [{"messages": []}])
    with pytest.raises(DatasetError, match=r"line 11: missing_messages_list.*skillstack data validate"):
        load_examples(path)
    assert len(load_examples(write(tmp_path / "ok.jsonl", [chat(i) for i in range(10)]))) == 10


def test_load_examples_refuses_the_wrong_format(tmp_path: Path):
    path = write(tmp_path / "d.jsonl", [chat(i) for i in range(10)])
    with pytest.raises(DatasetError, match="as preference data"):
        load_examples(path, format="preference")


def test_cli_validate_json_prints_one_report_and_exits_by_verdict(tmp_path: Path, capsys, home):
    good = write(tmp_path / "good.jsonl", [chat(i) for i in range(12)])
    assert main(["data", "validate", str(good), "--json", "--no-tokens"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"ok", "examples", "format", "errors", "warnings"}
    assert report["ok"] and report["examples"] == 12 and report["format"] == "chat"

    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(good.read_bytes() + b"{broken\n")
    assert main(["data", "validate", str(bad), "--json", "--no-tokens"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert json.loads(out[0])["errors"] == [{"line": 13, "code": "invalid_json", "message": json.loads(out[0])["errors"][0]["message"]}]


def test_cli_validate_counts_tokens_with_the_base_model_by_default(tmp_path: Path, capsys, home):
    path = write(tmp_path / "d.jsonl", [chat(i) for i in range(11)] + [chat(99, "word " * 200)])
    assert main(["data", "validate", str(path), "--json", "--max-tokens", "100"]) == 1
    assert json.loads(capsys.readouterr().out)["errors"][0]["code"] == "too_many_tokens"


def test_cli_validate_missing_file_is_one_line_exit_2(tmp_path: Path, capsys, home):
    assert main(["data", "validate", str(tmp_path / "nope.jsonl"), "--json"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_lone_surrogates_do_not_break_token_counting(tmp_path: Path, tokenizer):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(chat(i)) + "\n" for i in range(10)) + '{"messages": [{"role": "user", "content": "\\ud800 hi"}, '
                    '{"role": "assistant", "content": "ok"}]}\n', encoding="utf-8")
    report = validate_file(path, tokenizer=tokenizer, max_tokens=5)
    assert [f.line for f in report.errors] == list(range(1, 12))


def test_limit_check_that_skips_short_examples_agrees_with_exact_counting(tmp_path: Path, tokenizer):
    path = write(tmp_path / "d.jsonl", [chat(i, "naïve café 🙂 " * i) for i in range(1, 41)])
    exact = validate_file(path, tokenizer=tokenizer, exact_tokens=True, max_tokens=10_000)
    limit = sorted(exact.tokens)[len(exact.tokens) // 2]
    fast = validate_file(path, tokenizer=tokenizer, max_tokens=limit)
    slow = validate_file(path, tokenizer=tokenizer, max_tokens=limit, exact_tokens=True)
    assert fast.errors == slow.errors and len(fast.errors) == sum(1 for c in exact.tokens if c > limit) > 0


def test_cli_unloadable_tokenizer_is_one_line_pointing_at_no_tokens(tmp_path: Path, capsys, home, monkeypatch):
    monkeypatch.setenv("SKILLSTACK_BASE_MODEL", str(tmp_path / "no-model-here"))
    path = write(tmp_path / "d.jsonl", [chat(i) for i in range(12)])
    assert main(["data", "validate", str(path), "--json"]) == 2
    assert "--no-tokens" in capsys.readouterr().err
    assert main(["data", "validate", str(path), "--json", "--no-tokens"]) == 0
