"""One knowledge store for many agent servers: two skillstack processes, each with its own home, on one real
`chroma run` share hybrid search (the BM25 index lives in the server), take no file lock, and a killed ingest
is completed by the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chroma_fixtures import chroma_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "demo" / "docs"
QUERIES = ["Within how many days must the landlord return the deposit?",
           "How quickly must a personal data breach be notified?"]


def agent_env(home: Path, port: int) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_CHROMA_HOST": "127.0.0.1",
            "SKILLSTACK_CHROMA_PORT": str(port)}


def skillstack(env: dict[str, str], *args: str, **popen: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "skillstack.cli.main", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def finished(process: subprocess.Popen, timeout: float = 300) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-2000:]
    return out


def cli_hits(env: dict[str, str], tmp_path: Path, mode: str) -> dict[str, list[list[str]]]:
    """What `skillstack search --json` returns in this home: chunk id and source of the top 3, per query."""
    batch = tmp_path / "queries.jsonl"
    batch.write_text("".join(json.dumps({"text": q}) + "\n" for q in QUERIES), encoding="utf-8")
    out = finished(skillstack(env, "search", "--input", str(batch), "--json", "-k", "3", "--mode", mode))
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {f"{mode}:{q}": [[hit["metadata"]["chunk_id"], hit["source"]] for hit in row]
            for q, row in zip(QUERIES, rows)}


def client_rounds(env: dict[str, str], stop: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE / "shared_store_client.py"), str(stop), *QUERIES], env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_agent_servers_share_hybrid_search_while_one_ingests(chroma_server, tmp_path):
    writer, reader = agent_env(tmp_path / "agent-a", chroma_server), agent_env(tmp_path / "agent-b", chroma_server)
    finished(skillstack(writer, "ingest", str(DOCS / "northwind-code-data.html"), "-q"))
    stop = tmp_path / "stop"
    searcher = client_rounds(reader, stop)
    first = searcher.stdout.readline()  # the reader is searching before the second ingest starts
    assert '"hits"' in first, first + searcher.stderr.read()[-2000:]
    # Two writers at once (a new file, and a re-ingest from the same home): a Chroma server needs no file lock.
    ingests = [skillstack(writer, "ingest", str(DOCS / "northwind-code-tenancy.md"), "-q", "--json"),
               skillstack(writer, "ingest", str(DOCS / "northwind-code-data.html"), "-q", "--json")]
    reports = [json.loads(finished(process)) for process in ingests]
    assert reports[0]["added"] and reports[0]["chunks_written"] > 0 and not reports[1]["errors"]
    stop.touch()
    out, err = searcher.communicate(timeout=300)
    rounds = [json.loads(line) for line in (first + out).splitlines() if line.strip()]
    assert searcher.returncode == 0, err[-2000:]
    assert [r for r in rounds if "error" in r] == [] and len(rounds) >= 2
    final = rounds[-1]
    assert final.get("final")
    # The reader's own home holds no index: what it searched lexically came from the server.
    assert not (tmp_path / "agent-b" / "store").exists()
    assert final["hits"] == {**cli_hits(writer, tmp_path, "hybrid"), **cli_hits(writer, tmp_path, "lexical")}
    for mode in ("hybrid", "lexical"):
        assert final["hits"][f"{mode}:{QUERIES[0]}"][0][1].endswith("northwind-code-tenancy.md")


def long_code(path: Path, articles: int = 80) -> Path:
    """A generated code of many short articles: enough batches for a kill to land mid-ingest."""
    path.write_text("# Generated Code\n\n" + "".join(
        f"### Article {n} — Duty number {n}\n\nThe keeper of ledger {n} shall file form {n * 7} within {n} days "
        f"of the {n}th audit, or pay a levy of {n * 13} crowns to the Registrar.\n\n" for n in range(1, articles + 1)),
        encoding="utf-8")
    return path


def test_an_ingest_killed_mid_way_is_completed_by_the_next_run(chroma_server, tmp_path):
    import chromadb

    from skillstack.retrieval.lexical import load_saved
    from skillstack.retrieval.store import open_collection
    from skillstack.settings import load_settings

    writer, reader = agent_env(tmp_path / "agent-a", chroma_server), agent_env(tmp_path / "agent-b", chroma_server)
    finished(skillstack(writer, "ingest", str(DOCS), "-q"))
    collection = chromadb.HttpClient(host="127.0.0.1", port=chroma_server).get_collection("documents")
    before = collection.count()
    code = long_code(tmp_path / "generated-code.md")
    ingest = skillstack(writer, "ingest", str(code), "-q", "--batch-size", "2")
    deadline = time.time() + 300
    while collection.count() == before and ingest.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    ingest.send_signal(signal.SIGKILL)
    ingest.communicate()
    landed = collection.count() - before
    assert ingest.returncode == -signal.SIGKILL and landed > 0

    reader_settings = load_settings(tmp_path / "agent-b", chroma_host="127.0.0.1", chroma_port=chroma_server)
    # The server still holds the index of the chunks before the kill; no reader may use it now.
    assert load_saved(reader_settings, open_collection(reader_settings, create=False)) is None
    stop = tmp_path / "stop"
    stop.touch()
    interim = json.loads(finished(client_rounds(reader, stop)).splitlines()[-1])
    assert "hits" in interim  # rebuilt from Chroma in memory: searching works meanwhile

    report = json.loads(finished(skillstack(writer, "ingest", str(code), "-q", "--json")))
    assert report["chunks_written"] + landed == report["total_chunks"] - before
    shared = load_saved(reader_settings, open_collection(reader_settings, create=False))
    assert shared is not None and len(shared.ids) == collection.count()
    [(chunk_id, _)] = shared.search("levy of 1027 crowns", 1)  # Article 79's levy, in the last batches
    assert "Article 79" in collection.get(ids=[chunk_id])["documents"][0]
