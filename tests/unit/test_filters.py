"""Chroma-style where filters evaluated in Python for the BM25 side."""

import pytest

from skillstack.errors import InputError
from skillstack.retrieval.filters import matches, parse_filter_args

META = {"kind": "article", "article": "33", "part": 2}


@pytest.mark.parametrize("where, expected", [
    (None, True),
    ({"kind": "article"}, True),
    ({"kind": "recital"}, False),
    ({"article": {"$in": ["32", "33"]}}, True),
    ({"article": {"$nin": ["33"]}}, False),
    ({"part": {"$gte": 2}}, True),
    ({"part": {"$lt": 2}}, False),
    ({"$and": [{"kind": "article"}, {"article": "33"}]}, True),
    ({"$or": [{"kind": "recital"}, {"article": "34"}]}, False),
    ({"missing": {"$ne": "x"}}, True),
    ({"missing": "x"}, False),
])
def test_where_filters_match_like_chroma(where, expected):
    assert matches(META, where) is expected


def test_unknown_operator_is_a_clear_input_error():
    with pytest.raises(InputError, match=r"\$like"):
        matches(META, {"kind": {"$like": "art"}})


def test_cli_filter_pairs_become_one_where_dict():
    assert parse_filter_args([]) is None
    assert parse_filter_args(["kind=article"]) == {"kind": "article"}
    assert parse_filter_args(["kind=article", "article=33"]) == {"$and": [{"kind": "article"}, {"article": "33"}]}
    with pytest.raises(InputError, match="key=value"):
        parse_filter_args(["article"])
