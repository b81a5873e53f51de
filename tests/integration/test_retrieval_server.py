"""Server mode: the same ingest and hybrid search against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from skillstack.errors import StoreError

pytestmark = pytest.mark.slow
DEMO_HTML = Path(__file__).resolve().parents[2] / "demo" / "docs" / "northwind-code-data.html"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        pytest.skip("the chroma server CLI is not installed beside this Python")
    port = free_port()
    server = subprocess.Popen([chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "srv")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):  # up to 30 s for the server to answer its heartbeat
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start within 30 s")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


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
