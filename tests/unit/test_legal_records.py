"""Written legal case records: checked on reading, trained as printed and renumbered, scored by their verdict."""

from __future__ import annotations

import json
import random
import re

import pytest

from skillstack.agents.lawyer.citations import cited_articles
from skillstack.agents.lawyer.gate import check_citations
from skillstack.errors import DatasetError
from skillstack.training.demo_skills import legal
from skillstack.training.demo_skills.legal_records import (case_item, read_records, record_example, training_records,
                                                           tuning_items)

RECORD = {
    "id": "t-1", "code": "Fictional Ferry Passenger Code", "party": "the ferry operator",
    "facts": "My ferry was cancelled and the refund came 20 days after I asked. Was that allowed?",
    "articles": [{"number": "12", "title": "Refunds", "text": "The operator shall refund the fare within 14 days of a request."},
                 {"number": "3", "title": "Scope", "text": "This Code applies to ferries."},
                 {"number": "7a", "title": "Luggage", "text": "One bag travels free."}],
    "gold": ["12"], "conclusion": "did not comply",
    "analysis": ("Issue: Whether the ferry operator refunded the fare in time.\n"
                 'Rule: Article 12 (Refunds) provides that "shall refund the fare within 14 days" [Article 12].\n'
                 "Application: The refund came after 20 days, beyond the 14 days allowed.\n"
                 "Conclusion: The ferry operator did not comply with [Article 12]. The passenger may claim interest."),
}


def _write(tmp_path, rows) -> object:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_record_without_a_verdict_or_with_a_stray_gold_article_is_refused_naming_its_line(tmp_path):
    with pytest.raises(DatasetError, match=r"cases.jsonl:2: .*conclusion"):
        read_records(_write(tmp_path, [RECORD, {**RECORD, "conclusion": "maybe"}]))
    with pytest.raises(DatasetError, match=r"cases.jsonl:1: gold articles \['99'\]"):
        read_records(_write(tmp_path, [{**RECORD, "gold": ["99"]}]))


def test_a_renumbered_training_example_cites_the_numbers_its_prompt_prints():
    example = record_example(RECORD, random.Random(3), renumber=True)
    prompt, analysis = example["messages"][1]["content"], example["messages"][2]["content"]
    shown = dict(re.findall(r'<article number="(\w+)"[^>]*>\n(.*?)\n</article>', prompt, re.S))
    refunds = next(number for number, text in shown.items() if "refund the fare" in text)
    assert refunds != "12" and set(cited_articles(analysis)) == {refunds}
    assert f"Article {refunds} (Refunds)" in analysis
    hits = [{"text": text, "metadata": {"article": number}} for number, text in shown.items()]
    assert check_citations(analysis, hits).ok
    printed = record_example(RECORD, random.Random(3), renumber=False)["messages"][2]["content"]
    assert printed == RECORD["analysis"]


def test_a_records_articles_are_shown_best_first_as_the_hybrid_flow_shows_retrieved_ones():
    # The record lists the refund rule first; the luggage facts make the luggage article the best match.
    row = {**RECORD, "facts": "The ferry charged me for my only bag. Is one bag not free?", "gold": ["7a"]}
    prompt = record_example(row, random.Random(3), renumber=False)["messages"][1]["content"]
    assert re.findall(r'<article number="(\w+)"', prompt)[0] == "7a"
    assert case_item(row)["hits"][0]["metadata"]["article"] == "7a"


def test_a_record_becomes_an_eval_item_whose_reference_scores_full_marks():
    item = case_item(RECORD)
    assert item["messages"][-1]["role"] == "user" and len(item["hits"]) == 3
    scores = legal.score(item, item["reference"])
    assert scores["citation_f1"] == 1.0 and scores["gate_passed"] == 1.0 and scores["verdict"] == 1.0
    flipped = item["reference"].replace("did not comply with", "complied with")
    assert legal.score(item, flipped)["verdict"] == 0.0


@pytest.mark.parametrize(("conclusion", "verdict"), [
    ("Conclusion: The landlord did not comply with [Article 4].", "did not comply"),
    ("Conclusion: Ana complied with [Article 4].", "complied"),
    ("Conclusion: The entry was unlawful.", "did not comply"),
    ("Conclusion: The landlord has not complied with the Code.", "did not comply"),
    ("Conclusion: The increase is valid.", "complied"),
    ("Issue: whether it was lawful.\nRule: x", None),
])
def test_the_verdict_is_read_from_the_conclusion_line_only(conclusion, verdict):
    assert legal.verdict_of("Issue: Whether it was lawful.\n" + conclusion) == verdict


def test_the_shipped_records_are_balanced_and_their_references_pass_the_gate():
    train, tuning = training_records(), tuning_items()
    assert len(train) >= 100 and len(tuning) >= 30
    for rows in (train, tuning):
        verdicts = [row["conclusion"] for row in rows]
        assert abs(verdicts.count("complied") - verdicts.count("did not comply")) <= len(rows) // 10
    for row in train:
        item = case_item(row)
        assert legal.score(item, item["reference"])["gate_passed"] == 1.0, row["id"]
    assert not {row["code"] for row in train} & {item["hits"][0]["source"] for item in tuning}
