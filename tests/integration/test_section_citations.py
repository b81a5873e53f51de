"""A policy numbered by "Section" units (real Chroma, real embedder, real base model) is cited by section.

The policy is written here, ingested into a scratch home, and the RAG answer must cite the section that
holds the answer as "[Section N]", verified against the retrieved units.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow

POLICY = """# Acme Outdoor Gear refund policy

## Section 1 Scope
This policy applies to every order placed in the Acme Outdoor Gear web shop.

## Section 2 Returns
Unused items may be returned within 30 days of delivery in their original packaging.

## Section 3.1 Refund timing
Refunds are paid to the original payment card within 14 days after the returned item reaches our warehouse.

## Section 3.2 Shipping costs
Return shipping is free for faulty items; for other returns the customer pays the return postage.

## Section 4 Gift cards
Gift cards cannot be refunded or exchanged for cash.
"""


@pytest.fixture(scope="module")
def policy_settings(tmp_path_factory: pytest.TempPathFactory):
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    folder = tmp_path_factory.mktemp("policy-docs")
    (folder / "refund-policy.md").write_text(POLICY, encoding="utf-8")
    settings = load_settings(tmp_path_factory.mktemp("policy-home"))
    report = ingest_paths(settings, [folder], progress=False)
    assert not report.errors and len(report.added) == 1
    return settings


def test_policy_sections_are_stored_with_their_numbers_and_titles(policy_settings):
    from skillstack.retrieval import store

    stored = store.read_all(store.open_collection(policy_settings, create=False))
    sections = {m["section"]: m["title"] for m in stored["metadatas"] if m.get("section")}
    assert sections == {"1": "Scope", "2": "Returns", "3.1": "Refund timing", "3.2": "Shipping costs",
                        "4": "Gift cards"}


def test_rag_answer_from_the_base_model_cites_the_section_that_holds_the_answer(policy_settings):
    from skillstack.retrieval.answer import answer_question
    from skillstack.retrieval.retriever import Retriever
    from skillstack.skills.runtime import chat_model

    question = "Within how many days is a refund paid after the returned item reaches the warehouse?"
    hits = Retriever(policy_settings).search(question, 3)
    assert hits[0].cite_as == "Section 3.1"
    result = answer_question(question, hits, chat_model(policy_settings, "base", max_tokens=48))
    assert "14" in result["answer"] and result["citations"][0]["cite"] == "Section 3.1"
    assert {c["article"] for c in result["citations"]} <= {hit.article for hit in hits}
    assert re.search(r"\[Section 3\.1\]", result["answer"])
