"""The unseen legal cases convert into legal-reasoner eval items in the trained IRAC prompt."""

from training.demo_skills.unseen import unseen_items


def test_unseen_legal_cases_become_irac_items_with_gold_and_conclusion() -> None:
    items = unseen_items("legal-reasoner")
    assert items, "bench/unseen/skills/legal_cases.jsonl holds the cases"
    first = items[0]
    assert first["messages"][-1]["role"] == "user" and "<facts>" in first["messages"][-1]["content"]
    assert first["gold_articles"] and first["conclusion"] in ("complied", "did not comply")
    assert all(h["metadata"]["article"] for h in first["hits"])
