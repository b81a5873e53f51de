"""The real EUR-Lex GDPR page through the whole pipeline: 99 articles, 173 recitals, hybrid retrieval quality.

Ingested once for this module (real Chroma, real all-MiniLM-L6-v2); every test reads that store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.cli.main import main

pytestmark = pytest.mark.slow
QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "gdpr_questions.jsonl"


@pytest.fixture(scope="module")
def gdpr_store(gdpr_dir, tmp_path_factory):
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    settings = load_settings(tmp_path_factory.mktemp("gdpr-home"))
    report = ingest_paths(settings, [gdpr_dir / "gdpr_eurlex.html"], progress=False)
    assert not report.errors and len(report.added) == 1
    return settings


@pytest.fixture(scope="module")
def retriever(gdpr_store):
    from skillstack.retrieval.retriever import Retriever

    return Retriever(gdpr_store)


@pytest.fixture(scope="module")
def stored(gdpr_store):
    from skillstack.retrieval import store

    return store.read_all(store.open_collection(gdpr_store, create=False))


def gold_titles(gdpr_dir: Path) -> dict[str, str]:
    data = json.loads((gdpr_dir / "gdpr.json").read_text(encoding="utf-8"))
    titles = {}
    for chapter in data["chapters"]:
        for item in chapter["contents"]:
            for article in [item] if item["type"] == "article" else item["contents"]:
                titles[article["number"]] = " ".join(article["title"].split())
    return titles


def test_all_99_articles_are_stored_with_their_numbers_and_titles(stored, gdpr_dir):
    found: dict[str, set[str]] = {}
    for metadata in stored["metadatas"]:
        if metadata["kind"] == "article":
            found.setdefault(metadata["article"], set()).add(metadata["title"])
    expected = gold_titles(gdpr_dir)
    assert len(expected) == 99
    assert {number: titles for number, titles in found.items()} == {n: {t} for n, t in expected.items()}


def test_all_173_recitals_are_tagged_as_recitals(stored):
    recitals = {m["recital"] for m in stored["metadatas"] if m["kind"] == "recital"}
    assert recitals == {str(n) for n in range(1, 174)}
    assert not any(m.get("article") for m in stored["metadatas"] if m["kind"] == "recital")


def test_reingesting_the_unchanged_page_writes_nothing(gdpr_store, gdpr_dir):
    from skillstack.retrieval.ingest import ingest_paths

    report = ingest_paths(gdpr_store, [gdpr_dir / "gdpr_eurlex.html"], progress=False)
    assert report.unchanged == [str((gdpr_dir / "gdpr_eurlex.html").resolve())]
    assert report.chunks_written == report.chunks_deleted == 0 and not report.added and not report.updated


def recall_at_5(retriever, mode: str) -> float:
    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = 0
    for item in questions:
        articles = {hit.metadata.get("article") for hit in retriever.search(item["question"], 5, mode=mode)}
        found += bool(articles & set(item["gold"]))
    return found / len(questions)


def test_hybrid_recall_at_5_beats_dense_only_and_bm25_only(retriever):
    assert len(QUESTIONS.read_text().splitlines()) >= 30
    recall = {mode: recall_at_5(retriever, mode) for mode in ("dense", "lexical", "hybrid")}
    assert recall["hybrid"] > recall["dense"] and recall["hybrid"] > recall["lexical"], recall
    assert recall["hybrid"] >= 0.85, recall


def test_metadata_filter_applies_to_both_dense_and_lexical_sides(retriever):
    for mode in ("dense", "lexical", "hybrid"):
        hits = retriever.search("notification of a personal data breach", 5, where={"kind": "recital"}, mode=mode)
        assert hits and all(hit.metadata["kind"] == "recital" for hit in hits)
    only = retriever.search("supervisory authority", 3, where={"article": "33"})
    assert only and {hit.article for hit in only} == {"33"}


def test_cli_search_json_hits_carry_text_score_source_and_article(gdpr_store, capsys):
    code = main(["--home", str(gdpr_store.home), "search", "72 hours breach notification supervisory authority",
                 "-k", "5", "--json"])
    hits = json.loads(capsys.readouterr().out)
    assert code == 0 and len(hits) == 5
    assert all(set(hit) == {"text", "score", "source", "metadata"} for hit in hits)
    assert "33" in [hit["metadata"].get("article") for hit in hits]
    assert all(hit["source"].endswith("gdpr_eurlex.html") for hit in hits)


def test_cli_search_batch_prints_one_json_line_per_query_in_order(gdpr_store, tmp_path, capsys):
    batch = tmp_path / "queries.jsonl"
    batch.write_text('{"text": "right to erasure"}\n{"text": "data protection officer tasks"}\n')
    assert main(["--home", str(gdpr_store.home), "search", "--input", str(batch), "-k", "3",
                 "--filter", "kind=article"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert "17" in [h["metadata"]["article"] for h in first]
    assert "39" in [h["metadata"]["article"] for h in second]


def test_langchain_retriever_returns_documents_with_citations(retriever):
    documents = retriever.as_langchain(k=3).invoke("right of access by the data subject")
    assert len(documents) == 3
    assert "15" in [doc.metadata.get("article") for doc in documents]
    assert all(doc.metadata["source"].endswith("gdpr_eurlex.html") and "score" in doc.metadata for doc in documents)


LAY_TUNING = Path(__file__).resolve().parents[1] / "data" / "gdpr_lay_questions_tuning.jsonl"


def test_the_breach_recital_bridges_to_the_breach_notification_article(gdpr_store):
    from skillstack.retrieval import store
    from skillstack.retrieval.bridges import RecitalBridges

    collection = store.open_collection(gdpr_store, create=False)
    source = collection.get(where={"kind": "recital"}, limit=1, include=["metadatas"])["metadatas"][0]["source"]
    links = RecitalBridges(collection).links(source)  # the source as stored (the ingest resolves the path)
    assert len(links) == 173 and links["85"] == "33"


def test_recital_bridges_raise_recall_on_lay_questions(gdpr_store):
    import dataclasses

    from skillstack.retrieval.retriever import Retriever

    items = [json.loads(line) for line in LAY_TUNING.read_text().splitlines() if line.strip()]

    def recall(settings) -> float:
        retriever = Retriever(settings)
        found = [set(item["gold"]) & {hit.article for hit in retriever.search(item["question"], 5)} for item in items]
        return sum(map(bool, found)) / len(items)

    plain, bridged = recall(dataclasses.replace(gdpr_store, recital_bridges=False)), recall(gdpr_store)
    assert bridged >= plain + 0.1, (plain, bridged)
