"""Reciprocal rank fusion is a pure function: order, ties, weights, duplicates."""

import pytest

from skillstack.retrieval.fusion import reciprocal_rank_fusion


def test_item_ranked_well_by_both_lists_comes_first():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert [item for item, _ in fused][:2] in (["a", "b"], ["b", "a"])
    assert {item for item, _ in fused} == {"a", "b", "c", "d"}
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_item_in_one_list_only_scores_its_single_rank():
    fused = dict(reciprocal_rank_fusion([["x"], []], k=10))
    assert fused == {"x": pytest.approx(1 / 11)}


def test_ties_keep_first_seen_order_so_results_are_deterministic():
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], k=60)
    assert [item for item, _ in fused] == ["a", "b"]


def test_small_k_rewards_a_first_rank_over_agreement_at_low_ranks():
    lists = [["top", *[f"d{i}" for i in range(20)], "both"], [*[f"l{i}" for i in range(20)], "both"]]
    assert reciprocal_rank_fusion(lists, k=60)[0][0] == "both"
    assert reciprocal_rank_fusion(lists, k=1)[0][0] == "top"


def test_weights_scale_each_list_and_must_match_in_number():
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[2.0, 1.0]))
    assert fused["a"] == pytest.approx(2.0) and fused["b"] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_an_id_repeated_in_one_list_counts_once_at_its_best_rank():
    fused = dict(reciprocal_rank_fusion([["a", "a", "b"]], k=0))
    assert fused == {"a": pytest.approx(1.0), "b": pytest.approx(1 / 3)}
