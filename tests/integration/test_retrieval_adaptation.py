"""The store knows what built it, `train embedder` adapts the embedder to it, and the query-likelihood
reranker: on the Northwind demo code (real Chroma, real all-MiniLM-L6-v2, real SmolLM2, real training)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from skillstack.cli.main import main
from skillstack.errors import StoreError

pytestmark = pytest.mark.slow
DEMO_DOCS = Path(__file__).resolve().parents[2] / "demo" / "docs"


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--home", str(home), *args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("adapt-home")
    code, _, err = cli(home, "ingest", "-q", str(DEMO_DOCS))
    assert code == 0, err
    return home


def test_search_returns_distinct_articles_each_by_its_best_chunk(demo_home):
    from skillstack.retrieval.retriever import Retriever
    from skillstack.settings import load_settings

    hits = Retriever(load_settings(demo_home)).search("deposit tenancy landlord repairs rent", 8)
    units = [hit.unit for hit in hits]
    assert len(units) == len(set(units)) == 8


def test_a_store_left_half_re_embedded_is_refused_until_reembed_finishes_it(demo_home, tmp_path):
    from skillstack.retrieval import store
    from skillstack.retrieval.embeddings import EmbedderIdentity
    from skillstack.settings import load_settings

    home = tmp_path / "half"
    shutil.copytree(demo_home, home)
    collection = store.open_collection(load_settings(home), create=False)
    store.record_built_by(collection, EmbedderIdentity(name="x (re-embedding unfinished)", fingerprint=""))
    code, _, err = cli(home, "search", "deposit")
    assert code == 2 and err.count("\n") == 1
    assert "re-embedding unfinished" in err and "all-MiniLM-L6-v2" in err and "skillstack reembed" in err
    code, out, err = cli(home, "reembed", "-q", "--json")
    assert code == 0 and json.loads(out)["chunks"] > 0, err
    code, out, _ = cli(home, "search", "deposit", "--json")
    assert code == 0 and json.loads(out)


def test_train_embedder_writes_a_versioned_model_reembeds_and_the_store_refuses_the_old_one(demo_home, tmp_path):
    from skillstack.retrieval.retriever import Retriever
    from skillstack.settings import load_settings, with_overrides

    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    code, out, err = cli(home, "train", "embedder", "--name", "northwind", "--batch-size", "8", "--no-progress", "--json")
    assert code == 0, err
    result = json.loads(out)
    folder = Path(result["folder"])
    assert folder == home / "embedders" / "northwind-v1" and result["reembedded"] > 0
    manifest = json.loads((folder / "skillstack-embedder.json").read_text())
    assert manifest["format_version"] == 1 and manifest["name"] == "northwind-v1"
    assert manifest["base_embedder"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["loss"] == "MultipleNegativesRankingLoss" and manifest["pairs"] == result["pairs"] > 8
    assert len(manifest["corpus_fingerprint"]) == 64 and (folder / "loss_curve.png").stat().st_size > 0
    settings = load_settings(home)  # config.toml now names the trained folder
    assert Path(settings.embedding_model) == folder
    assert Retriever(settings).search("How many days to return the deposit?", 3)[0].article == "4"

    with pytest.raises(StoreError) as refused:
        Retriever(with_overrides(settings, embedding_model="embedded"))
    message = str(refused.value)
    assert "northwind-v1" in message and "all-MiniLM-L6-v2" in message and "skillstack reembed" in message
    code, _, err = cli(home, "ingest", "-q", str(DEMO_DOCS), "--json")  # the same config: ingest is allowed
    assert code == 0, err

    code, out, _ = cli(home, "train", "embedder", "--name", "northwind", "--batch-size", "8", "--no-reembed",
                       "--no-progress", "--json")
    second = json.loads(out)
    assert code == 0 and second["folder"].endswith("northwind-v2") and second["reembedded"] is None
    assert Path(load_settings(home).embedding_model) == folder  # untouched: the store still holds v1's vectors


def test_bad_embedder_name_is_refused_before_training(demo_home):
    code, _, err = cli(demo_home, "train", "embedder", "--name", "../escape")
    assert code == 2 and "embedder name" in err and err.count("\n") == 1
    assert not (demo_home / "embedders").exists()


def test_batched_query_likelihoods_equal_one_passage_at_a_time(shared_settings):
    from skillstack.retrieval.rerank import question_likelihoods

    passages = ["Article 4 — Deposits\nA landlord returns the deposit within 14 days after the tenancy ends.",
                "Article 17 — Breach notification\nA breach is reported within 72 hours.",
                "A short one."]
    question = "How long does the landlord have to give back the deposit?"
    batched = question_likelihoods(shared_settings, question, passages)
    alone = [question_likelihoods(shared_settings, question, [p])[0] for p in passages]
    assert batched == pytest.approx(alone, abs=1e-3)
    assert batched[0] > batched[1]


def test_rerank_option_reorders_by_likelihood_and_keeps_k(demo_home):
    code, out, err = cli(demo_home, "search", "How many days to return the deposit?", "-k", "3", "--rerank", "5", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert len(hits) == 3 and hits[0]["metadata"]["article"] == "4"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True) and hits[0]["score"] < 0
    code, _, err = cli(demo_home, "search", "deposit", "--rerank", "-1")
    assert code == 2 and "--rerank" in err
