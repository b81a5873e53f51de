"""Server mode: the same ingest and hybrid search against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from chroma_fixtures import chroma_server, free_port  # noqa: F401 - a fixture
from skillstack.errors import StoreError

pytestmark = pytest.mark.slow
DEMO_HTML = Path(__file__).resolve().parents[2] / "demo" / "docs" / "northwind-code-data.html"


def test_ingest_and_hybrid_search_through_a_chroma_server(chroma_server, home):
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.retrieval.retriever import Retriever
    from skillstack.settings import load_settings

    settings = load_settings(home, chroma_host="127.0.0.1", chroma_port=chroma_server)
    with pytest.raises(StoreError, match="has no collection"):
        Retriever(settings)
    report = ingest_paths(settings, [DEMO_HTML], progress=False)
    assert report.total_chunks == 10 and not (home / "store" / "chroma").exists()
    hits = Retriever(settings).search("How quickly must a personal data breach be notified?", 3)
    assert hits[0].article == "17" and hits[0].source == str(DEMO_HTML.resolve())
    assert ingest_paths(settings, [DEMO_HTML], progress=False).chunks_written == 0


def test_unreachable_server_is_a_one_line_store_error(home):
    from skillstack.retrieval.retriever import Retriever
    from skillstack.settings import load_settings

    with pytest.raises(StoreError, match=r"cannot reach the Chroma server at 127\.0\.0\.1"):
        Retriever(load_settings(home, chroma_host="127.0.0.1", chroma_port=free_port()))
