"""Numeric bounds in constrained decoding: the regexes accept exactly the integers in range, and under a
schema whose `minimum` is 1 the real SmolLM2 vocabulary cannot start a count with 0 or a minus sign."""

from __future__ import annotations

import re

import pytest

from skillstack.errors import SkillError
from skillstack.skills.schema_bounds import bounded_regex, integer_range, number_range

COUNT_SCHEMA = {"type": "object", "properties": {"count": {"type": "integer", "minimum": 1}},
                "required": ["count"], "additionalProperties": False}


@pytest.mark.parametrize("lo,hi", [(None, None), (1, None), (0, None), (37, None), (None, 0), (-123, -5),
                                   (-10, 42), (10, 999), (5, 5), (100, 1234)])
def test_integer_range_accepts_exactly_the_integers_in_bounds(lo, hi):
    regex = re.compile(integer_range(lo, hi))
    for value in range(-1500, 1500):
        assert bool(regex.fullmatch(str(value))) == ((lo is None or value >= lo) and (hi is None or value <= hi)), value
    assert not any(regex.fullmatch(text) for text in ("-0", "01", "007", "+1", ""))


def test_number_range_allows_a_fraction_only_below_the_maximum():
    regex = re.compile(number_range(1, 10))
    assert all(regex.fullmatch(t) for t in ("1", "1.5", "9.99", "10", "10.0"))
    assert not any(regex.fullmatch(t) for t in ("0.5", "10.5", "11", "-1", "1e3"))
    assert number_range(-1, 5) is None  # left to validation and retry


def test_bounded_schema_regex_refuses_a_zero_count_and_a_negative_latency():
    regex = re.compile(bounded_regex(COUNT_SCHEMA, ""))
    assert regex.fullmatch('{"count":1}') and regex.fullmatch('{"count":120}')
    assert not regex.fullmatch('{"count":0}') and not regex.fullmatch('{"count":-3}')
    latency = re.compile(bounded_regex({"type": "object", "properties": {"p95": {"type": ["number", "null"], "minimum": 0}},
                                        "required": ["p95"], "additionalProperties": False}, ""))
    assert latency.fullmatch('{"p95":12.5}') and latency.fullmatch('{"p95":null}') and not latency.fullmatch('{"p95":-1}')


def test_bounds_that_admit_no_value_are_refused_in_one_line():
    with pytest.raises(SkillError, match="minimum 5 is above maximum 2"):
        bounded_regex({"type": "integer", "minimum": 5, "maximum": 2}, "")


def test_constrained_decoding_can_never_emit_a_count_of_zero_under_minimum_one(shared_settings):
    from skillstack.models import load_tokenizer
    from skillstack.skills.structured import json_constraint

    tokenizer = load_tokenizer(shared_settings)
    index = json_constraint(tokenizer, COUNT_SCHEMA).index
    state = index.get_initial_state()
    for token in tokenizer('{"count":', add_special_tokens=False)["input_ids"]:
        state = index.get_next_state(state, token)
        assert state is not None
    allowed = [tokenizer.convert_tokens_to_string([tokenizer.convert_ids_to_tokens(t)]) for t in index.get_allowed_tokens(state)]
    assert allowed and all(text.lstrip(" ")[:1] in "123456789" for text in allowed if text.strip())
    assert not any(text.lstrip(" ").startswith(("0", "-")) for text in allowed)
