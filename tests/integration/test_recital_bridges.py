"""Recitals as bridges: a question that lands on a recital gets the article that recital explains.

A tiny regulation written here (plain-words recitals, legal-terms articles), real Chroma and the real
embedder; the GDPR's own recitals are checked in test_retrieval_gdpr.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

REGULATION = """Harbour Mooring Regulation

Whereas:

(1) Boat owners often ask how soon a broken jetty light must be fixed after they tell the harbour office; it should be done the same night.
(2) People who leave a boat at the harbour for the winter want to know what they have to pay in advance.
(3) Anyone whose boat was damaged by a harbour crane should be able to get money back from the harbour.

HAVE ADOPTED THIS REGULATION:

Article 1
Scope
This Regulation applies to every mooring let by the Harbour Authority.

Article 2
Lighting defects
The Harbour Authority shall remedy any defect of the pontoon illumination within twelve hours of its notification.

Article 3
Seasonal fees
Seasonal berth fees shall be payable in full before the first day of the season.

Article 4
Liability for equipment
The Harbour Authority is liable for loss caused to vessels by the operation of its lifting equipment.
"""


@pytest.fixture(scope="module")
def regulation_settings(tmp_path_factory):
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    root = tmp_path_factory.mktemp("bridges")
    doc = root / "harbour-regulation.txt"
    doc.write_text(REGULATION, encoding="utf-8")
    settings = load_settings(root / "home")
    report = ingest_paths(settings, [doc], progress=False)
    assert not report.errors
    return settings


def test_each_recital_links_to_the_article_it_explains(regulation_settings):
    from skillstack.retrieval.bridges import RecitalBridges
    from skillstack.retrieval import store

    collection = store.open_collection(regulation_settings, create=False)
    source = next(m["source"] for m in collection.get(include=["metadatas"])["metadatas"])
    assert RecitalBridges(collection).links(source) == {"1": "2", "2": "3", "3": "4"}


def test_a_question_in_plain_words_gets_the_article_not_the_recital(regulation_settings):
    from skillstack.retrieval.retriever import Retriever

    question = "my jetty light is broken and I told the harbour office, how soon do they have to fix it?"
    plain = Retriever(dataclasses.replace(regulation_settings, recital_bridges=False)).search(question, k=1)
    assert plain[0].metadata["kind"] == "recital" and plain[0].metadata["recital"] == "1"
    bridged = Retriever(regulation_settings).search(question, k=1)
    assert bridged[0].article == "2" and bridged[0].metadata["via_recital"] == "1"
    assert "twelve hours" in bridged[0].text


def test_a_filter_the_article_does_not_match_keeps_the_recital(regulation_settings):
    from skillstack.retrieval.retriever import Retriever

    hits = Retriever(regulation_settings).search("broken jetty light", k=2, where={"kind": "recital"})
    assert hits and all(hit.metadata["kind"] == "recital" for hit in hits)


def test_bridged_results_stay_k_distinct_units(regulation_settings):
    from skillstack.retrieval.retriever import Retriever

    hits = Retriever(regulation_settings).search("what does the harbour have to do", k=4)
    assert len(hits) == 4 and len({hit.unit for hit in hits}) == 4
