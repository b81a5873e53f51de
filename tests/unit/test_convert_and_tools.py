"""Conversion to and from TRL formats, and the stats/split/dedupe tools."""

from __future__ import annotations

import json
from pathlib import Path

from skillstack.cli.main import main
from skillstack.training.data.convert import openai_to_trl, trl_to_openai
from skillstack.training.data.formats import (detect_format, is_chat_example, is_preference_example,
                                                  is_reinforcement_example)
from skillstack.training.data.validate import validate_file

CHAT = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                     {"role": "assistant", "content": "hello", "weight": 1}]}
PREF = {"input": {"messages": [{"role": "user", "content": "hi"}]},
        "preferred_output": [{"role": "assistant", "content": "hello"}],
        "non_preferred_output": [{"role": "assistant", "content": "go away"}]}
RFT = {"messages": [{"role": "user", "content": "2+2?"}], "answer": "4"}


def test_format_predicates_and_detection():
    assert is_chat_example(CHAT) and not is_preference_example(CHAT) and not is_reinforcement_example(CHAT)
    assert is_preference_example(PREF) and not is_chat_example(PREF)
    assert is_reinforcement_example(RFT) and not is_chat_example(RFT)
    assert detect_format([CHAT, CHAT, PREF]) == "chat"
    assert detect_format([PREF, "junk", PREF]) == "preference"
    assert detect_format([RFT, RFT]) == "reinforcement"
    assert detect_format([]) == "chat"


def test_chat_round_trips_through_trl_conversational_and_prompt_completion():
    trl = openai_to_trl(CHAT)
    assert trl == {"messages": [{k: v for k, v in m.items() if k != "weight"} for m in CHAT["messages"]]}
    pc = openai_to_trl(CHAT, prompt_completion=True)
    assert pc["prompt"][-1]["role"] == "user" and pc["completion"] == [{"role": "assistant", "content": "hello"}]
    assert trl_to_openai(pc) == trl_to_openai(trl) == trl


def test_preference_round_trips_through_trl_prompt_chosen_rejected():
    trl = openai_to_trl(PREF)
    assert set(trl) == {"prompt", "chosen", "rejected"}
    assert trl_to_openai(trl) == PREF


def test_trl_standard_strings_and_implicit_prompts_become_openai_messages():
    assert trl_to_openai({"prompt": "hi", "chosen": "hello", "rejected": "go away"}) == PREF
    implicit = {"chosen": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
                "rejected": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "go away"}]}
    assert trl_to_openai(implicit) == PREF


def write(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chat(i: int) -> dict:
    return {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}


def test_cli_convert_to_trl_and_back_gives_a_valid_openai_file(tmp_path: Path, capsys, home):
    src = write(tmp_path / "src.jsonl", [chat(i) for i in range(12)])
    assert main(["data", "convert", str(src), "--to", "trl-prompt-completion", "-o", str(tmp_path / "trl.jsonl"), "--json"]) == 0
    assert main(["data", "convert", str(tmp_path / "trl.jsonl"), "--to", "openai", "-o", str(tmp_path / "back.jsonl"), "--json"]) == 0
    assert (tmp_path / "back.jsonl").read_text() == src.read_text()
    assert validate_file(tmp_path / "back.jsonl").ok


def test_split_holds_out_a_share_with_no_overlap_and_dedupe_drops_repeats(tmp_path: Path, capsys, home):
    src = write(tmp_path / "src.jsonl", [chat(i) for i in range(20)] + [chat(3), chat(4)])
    assert main(["data", "dedupe", str(src), "-o", str(tmp_path / "d.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"kept": 20, "removed": 2}
    assert main(["data", "split", str(src), "--train-out", str(tmp_path / "t.jsonl"), "--validation-out",
                 str(tmp_path / "v.jsonl"), "--validation-fraction", "0.25", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"train": 15, "validation": 5}
    report = validate_file(tmp_path / "t.jsonl", validation_path=tmp_path / "v.jsonl")
    assert not [f for f in report.errors if f.code == "train_validation_overlap"]


def test_stats_report_roles_turns_and_token_histogram(tmp_path: Path, capsys, home):
    src = write(tmp_path / "src.jsonl", [chat(i) for i in range(12)])
    assert main(["data", "stats", str(src), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["roles"] == {"user": 12, "assistant": 12}
    assert stats["assistant_turns"]["max"] == 1
    assert sum(stats["tokens"]["histogram"].values()) == 12 and stats["tokens"]["over_limit"] == 0
