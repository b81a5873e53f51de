"""x-items-sum: local decoding cannot write a list whose counts miss the field they must add up to (skills/item_sums.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from skillstack.skills.backends.requests import ChatRequest
from skillstack.skills.input_bound import bind_to_input
from skillstack.skills.item_sums import KEYWORD, MAX_PARTS, item_sums_regex, without_item_sums
from skillstack.skills.schema_bounds import bounded_regex

REPO = Path(__file__).resolve().parents[2]
WS = "[ ]?"
REPORT = "ingest-worker-3: degraded, 120 tasks completed, 3 failed with TIMEOUT, 5 in progress."
SCHEMA = {
    "type": "object",
    "properties": {
        "failed": {"type": "integer", "minimum": 0, "x-from-input": True},
        "in_progress": {"type": "integer", "minimum": 0, "x-from-input": True},
        "errors": {"type": "array", KEYWORD: {"property": "count", "equals": "/failed"},
                   "items": {"type": "object",
                             "properties": {"code": {"type": "string", "x-from-input": True},
                                            "count": {"type": "integer", "minimum": 1, "x-from-input": True}},
                             "required": ["code", "count"], "additionalProperties": False}},
        "escalate": {"type": "boolean"},
    },
    "required": ["failed", "in_progress", "errors", "escalate"],
    "additionalProperties": False,
}


def decodable(regex: str, value: dict) -> bool:
    return re.fullmatch(regex, json.dumps(value, separators=(",", ":"))) is not None


def answer(failed: int, errors: list[tuple[str, int]]) -> dict:
    return {"failed": failed, "in_progress": 5, "errors": [{"code": c, "count": n} for c, n in errors], "escalate": False}


def test_error_counts_must_add_up_to_the_failed_count_decoded_before_them():
    regex = item_sums_regex(bind_to_input(SCHEMA, REPORT), WS)
    assert decodable(regex, answer(3, [("TIMEOUT", 3)]))
    assert decodable(regex, answer(0, []))
    assert decodable(regex, answer(5, [("TIMEOUT", 5)]))
    # demo task 3's invented entry: TIMEOUT x3 and "failed" x5 under failed 3
    assert not decodable(regex, answer(3, [("TIMEOUT", 3), ("failed", 5)]))
    assert not decodable(regex, answer(3, []))  # a list closed short of the total
    assert not decodable(regex, answer(0, [("TIMEOUT", 3)]))
    assert not decodable(regex, answer(8, [("TIMEOUT", 3), ("failed", 5)]))  # 8 is no number of the report


def test_several_entries_may_share_the_total_in_any_order():
    report = "crawler-03: 7 jobs failed: OOM 2, TIMEOUT 5, 40 done"
    regex = item_sums_regex(bind_to_input(SCHEMA, report), WS)
    assert decodable(regex, answer(7, [("OOM", 2), ("TIMEOUT", 5)]))
    assert decodable(regex, answer(7, [("TIMEOUT", 5), ("OOM", 2)]))
    assert not decodable(regex, answer(7, [("OOM", 2), ("TIMEOUT", 2)]))


def test_the_plain_regex_is_kept_when_the_counts_are_not_finite():
    free = json.loads(json.dumps(SCHEMA).replace('"x-from-input": true', '"x-from-input": false'))
    assert item_sums_regex(free, WS) == bounded_regex(without_item_sums(free), WS)


def test_a_report_with_many_small_numbers_gets_shorter_lists_not_none():
    report = "failed " + " ".join(str(n) for n in range(1, 20)) + " CODE"
    regex = item_sums_regex(bind_to_input(SCHEMA, report), WS)
    assert decodable(regex, answer(7, [("CODE", 7)]))
    assert not decodable(regex, answer(7, [("CODE", 2), ("CODE", 5)]))  # too many ways to add up: one entry each
    assert not decodable(regex, answer(7, [("CODE", 3)]))


def test_past_max_parts_distinct_counts_the_rule_is_left_to_the_grader():
    bound = bind_to_input(SCHEMA, "failed " + " ".join(str(n) for n in range(1, MAX_PARTS + 2)) + " CODE")
    assert item_sums_regex(bound, WS) == bounded_regex(without_item_sums(bound), WS)


def test_remote_decoders_get_the_schema_without_the_keyword():
    assert KEYWORD not in json.dumps(without_item_sums(SCHEMA))
    assert KEYWORD in json.dumps(SCHEMA)  # the caller's schema is not touched
    request = ChatRequest(messages=[{"role": "user", "content": REPORT}], json_schema=SCHEMA)
    from skillstack.skills.backends.openai import OpenAIBackend

    params = OpenAIBackend(client=None, model="gpt-4o-mini")._params(request)
    assert KEYWORD not in json.dumps(params["response_format"])


def test_the_bundled_status_schema_marks_its_error_counts():
    schema = json.loads((REPO / "skills" / "bundled" / "agent-status-json" / "schema.json").read_text())
    assert schema["properties"]["errors"][KEYWORD] == {"property": "count", "equals": "/tasks/failed"}
