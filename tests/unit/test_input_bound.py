"""x-from-input schema fields are narrowed to the values the request's own text holds (skills/input_bound.py)."""

from __future__ import annotations

from skillstack.skills.backends.requests import ChatRequest
from skillstack.skills.input_bound import MAX_CANDIDATES, bind_to_input, durations, input_text, numbers, words

REPORT = "Status report from agent Ingest-Worker-3: degraded, 1,200 tasks completed, 3 failed with TIMEOUT, DB_RESET x4."
SCHEMA = {
    "type": "object",
    "properties": {
        "agent_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "x-from-input": True},
        "code": {"type": "string", "x-from-input": True},
        "count": {"type": "integer", "minimum": 1, "maximum": 1000, "x-from-input": True},
        "note": {"type": "string"},
    },
}


def test_a_marked_string_may_only_be_a_word_of_the_input_that_matches_its_pattern():
    bound = bind_to_input(SCHEMA, REPORT)
    ids = bound["properties"]["agent_id"]
    assert "x-from-input" not in ids and "pattern" not in ids and "type" not in ids
    # capitals refused by the pattern: the lower-cased word is offered instead
    assert "ingest-worker-3" in ids["enum"] and "Ingest-Worker-3" not in ids["enum"]
    assert all(value == value.lower() for value in ids["enum"])
    codes = bound["properties"]["code"]["enum"]
    assert {"TIMEOUT", "DB_RESET", "Ingest-Worker-3"} <= set(codes) and "FAILED" not in codes


def test_a_marked_integer_may_only_be_a_number_the_input_writes_within_its_bounds():
    assert bind_to_input(SCHEMA, REPORT)["properties"]["count"]["enum"] == [3, 4]  # 0 < minimum, 1,200 > maximum
    assert numbers("1,200 done, 3 failed") == [0, 3, 1200]


def test_numbers_written_in_words_count_too():
    assert numbers("finished forty-two surveys, failed none, three still in progress, crashed twice") == [0, 2, 3, 42]


def test_words_keep_ids_whole_and_drop_trailing_punctuation():
    assert words("agent kyc-7: ok.") == ["agent", "kyc-7", "ok"]


def test_unmarked_fields_and_unmarked_schemas_are_left_as_they_are():
    bound = bind_to_input(SCHEMA, REPORT)
    assert bound["properties"]["note"] == {"type": "string"}
    plain = {"type": "object", "properties": {"note": {"type": "string"}}}
    assert bind_to_input(plain, REPORT) is plain and bind_to_input(None, REPORT) is None


def test_a_marked_field_with_no_candidate_or_too_many_stays_free():
    bound = bind_to_input(SCHEMA, "nothing numeric here")
    assert bound["properties"]["count"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    # a long document is not a report to copy from: its thousands of words would make the decoder's index huge
    long_input = " ".join(f"word{n}" for n in range(MAX_CANDIDATES + 1))
    assert bind_to_input(SCHEMA, long_input)["properties"]["code"] == {"type": "string"}


def test_only_the_users_turns_are_input():
    messages = [{"role": "system", "content": "Use code SYSTEM_CODE."}, {"role": "user", "content": REPORT},
                {"role": "assistant", "content": "ASSISTANT_CODE"}]
    assert input_text(messages) == REPORT
    enforced = ChatRequest(messages=messages, json_schema=SCHEMA).enforced_schema()
    assert "SYSTEM_CODE" not in enforced["properties"]["code"]["enum"]
    assert "ASSISTANT_CODE" not in enforced["properties"]["code"]["enum"]


def test_a_duration_field_may_only_be_a_number_of_the_input_converted_from_the_unit_written_after_it():
    latency = {"type": "object", "properties": {
        "p95_ms": {"type": ["number", "null"], "minimum": 0, "x-from-input": "ms"}}}
    report = "pdf-ocr-2: 61 pages, p50 0.4 s, p95 latency 3.8 seconds, p99 2 minutes, 850 µs per page"
    assert bind_to_input(latency, report)["properties"]["p95_ms"] == {
        "minimum": 0, "enum": [None, 0.85, 61, 400, 3800, 120000]}  # never 38000, never 95 of "p95"
    assert durations("p95=820ms, build v2.7.1, 95th percentile two hundred milliseconds") == [200, 820]
    assert durations('{"p95": 64}') == [64] and durations("p95 1.2 s", "s") == [1.2]


def test_a_duration_field_naming_an_unknown_unit_is_refused_with_the_units_it_may_name():
    import pytest

    from skillstack.errors import SkillError

    with pytest.raises(SkillError, match="'hours'.*ms, s, us, min"):
        bind_to_input({"type": "object", "properties": {"t": {"type": "number", "x-from-input": "hours"}}}, "3 h")


def test_a_skill_schema_naming_an_unknown_duration_unit_is_refused_when_it_loads_naming_the_file(tmp_path):
    import json

    import pytest

    from skillstack.errors import SkillError
    from skillstack.skills.structured import load_schema

    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"type": "object", "properties": {
        "p95": {"type": "number", "x-from-input": "seconds"}}}), encoding="utf-8")
    with pytest.raises(SkillError, match=r"schema\.json: .*'seconds'.*ms, s, us, min"):
        load_schema(path)
