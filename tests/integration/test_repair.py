"""`skillstack train repair` on the real bundled brand-voice skill: sampled, graded, DPO from its adapter, gated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.cli.main import main

pytestmark = pytest.mark.slow
# Passing means naming one exact time frame, which the skill seldom picks: its samples fail, the references pass.
GRADER = {"type": "python", "name": "names_36_hours",
          "source": "def grade(sample, item):\n    return float('within 36 hours' in sample['output_text'])\n"}


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_repair_trains_dpo_from_the_skill_adapter_and_keeps_it_only_if_the_gate_improves(home: Path, tmp_path: Path, capsys):
    reply = "Hi Maria,\n\nI completely understand. Here's what I'll do: I'll refund it within 36 hours.\n\nWarm regards, Lumen Care"
    problems = ["was charged twice", "lost her card", "cannot log in", "sees an unknown payment", "has a late transfer",
                "wants a new address", "got an overdraft fee", "needs a statement", "wants a higher limit", "had a card declined"]
    # ten prompts: the fewest preference examples the project's validator accepts for training
    prompts = write(tmp_path / "prompts.jsonl", [
        {"messages": [{"role": "user", "content": f"Customer Maria {problem}. Respond."}], "reference": reply} for problem in problems])
    gate = write(tmp_path / "gate.jsonl", [{"messages": [{"role": "user", "content": "Customer Tom's transfer is late. Respond."}],
                                            "reference": reply.replace("Maria", "Tom")}])
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps(GRADER), encoding="utf-8")
    out = tmp_path / "repaired"
    code = main(["--home", str(home), "train", "repair", "brand-voice", "--prompts", str(prompts), "--grader", str(grader),
                 "--eval", str(gate), "--output", str(out), "--samples", "1", "--max-tokens", "40", "--no-progress", "--json",
                 "--set", "max_steps=1", "--set", "batch_size=2", "--set", "max_seq_len=160", "--set", "save_every=0"])
    assert code in (0, None)
    report = json.loads(capsys.readouterr().out)  # stdout is the report alone: TRL's log dicts go to stderr
    assert report["paired"] >= 10 and report["failing"] >= report["paired"] and report["eval_items"] == 1
    assert report["kept"] is (report["after"] > report["before"])
    assert out.is_dir() is report["kept"]
    pairs = [json.loads(line) for line in (home / "repair" / "brand-voice" / "pairs.jsonl").read_text().splitlines()]
    assert all("within 36 hours" in p["preferred_output"][0]["content"] for p in pairs)
    assert not any("within 36 hours" in p["non_preferred_output"][0]["content"] for p in pairs)
    if report["kept"]:
        from skillstack.skills.manifest import load_manifest

        provenance = load_manifest(out).provenance
        assert provenance["method"] == "dpo" and provenance["repair"]["start_method"] == "sft"


def test_repair_with_no_failing_output_is_refused_in_one_line(home: Path, tmp_path: Path, capsys):
    # a reinforcement row (a prompt and its reference): fresh prompts carry no assistant turn
    prompts = write(tmp_path / "prompts.jsonl", [{"messages": [{"role": "user", "content": "Customer Ana was charged twice."}],
                                                  "reference": "Hi Ana, I'm sorry. Warm regards, Lumen Care"}])
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps({"type": "python", "name": "any", "source": "def grade(sample, item):\n    return 1.0\n"}))
    code = main(["--home", str(home), "train", "repair", "brand-voice", "--prompts", str(prompts), "--grader", str(grader),
                 "--samples", "1", "--max-tokens", "16", "--no-progress"])
    err = capsys.readouterr().err.strip()
    # the error is one line (transformers' own weight-loading bar may precede it on stderr)
    assert code not in (0, None) and "nothing to repair" in err.splitlines()[-1] and "Traceback" not in err
