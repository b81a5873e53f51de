"""Decoding copies x-from-input fields from the request's own text (skills/input_bound.py) and keeps x-items-sum
rules (skills/item_sums.py), with the real model."""

from __future__ import annotations

import json
from pathlib import Path

from skillstack.skills.input_bound import numbers, words
from skillstack.training.eval_answers import generate_outputs

REPO = Path(__file__).resolve().parents[2]
DEMO_REPORT = next(task["text"] for task in map(json.loads, (REPO / "demo" / "tasks.jsonl").read_text().splitlines())
                   if task.get("skill") == "agent-status-json")


def test_the_status_skill_copies_ids_counts_and_codes_from_the_report_and_its_counts_add_up(shared_settings):
    [out] = generate_outputs(shared_settings, "agent-status-json", [[{"role": "user", "content": DEMO_REPORT}]])
    assert out.error is None, out
    parsed = out.parsed
    assert parsed["agent_id"] == "ingest-worker-3"  # not cut ("in-worker-3"), not invented
    assert all(error["code"] in DEMO_REPORT for error in parsed["errors"]), parsed["errors"]
    written = set(numbers(DEMO_REPORT))
    assert set(parsed["tasks"].values()) <= written and {e["count"] for e in parsed["errors"]} <= written
    # x-items-sum: no invented "failed" x5 beside TIMEOUT x3 (demo task 3 before item_sums.py)
    assert parsed["tasks"]["failed"] == sum(e["count"] for e in parsed["errors"]), parsed


def test_the_base_model_cannot_write_a_marked_value_the_input_does_not_hold(shared_settings):
    schema = {"type": "object", "properties": {"code": {"type": "string", "x-from-input": True},
                                               "retries": {"type": "integer", "minimum": 0, "x-from-input": True}},
              "required": ["code", "retries"], "additionalProperties": False}
    prompt = "The nightly backup stopped with DISK_FULL after two retries. Give the error as JSON."
    [out] = generate_outputs(shared_settings, "base", [[{"role": "user", "content": prompt}]], json_schema=schema,
                             max_tokens=40)
    assert out.error is None, out
    assert out.parsed["code"] in words(prompt) and out.parsed["retries"] in numbers(prompt)
