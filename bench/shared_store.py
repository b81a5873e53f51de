"""Shared-store benchmark: hybrid search through a Chroma server (BM25 index stored in the server) vs embedded.

Run: `.venv/bin/python bench/shared_store.py [--gdpr PATH]`. Writes the `shared-store` section of bench/RESULTS.md.
Baseline: today's embedded store (Chroma PersistentClient + the bm25s folder beside it). Candidate: the same chunks
and vectors copied into a real `chroma run` on loopback, searched by a client with its own empty home, whose BM25
index comes from the server (retrieval/lexical_server.py). Measured in the same run:
- recall@5 of the gold article, lexical and hybrid, on the vocabulary tuning set (tests/data/gdpr_questions.jsonl),
  the lay tuning set (tests/data/gdpr_lay_questions_tuning.jsonl) and the unseen lay set
  (bench/unseen/knowledge/gdpr_lay_questions.jsonl, measured only, never tuned on); and how many queries return
  exactly the same hits in both;
- time for a new client to get the BM25 index: from the local folder (baseline), from the server, and rebuilt
  from the server's chunks (what every client would pay without the stored index).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH]  # bench/datasets.py shadows `datasets`
_spec = importlib.util.spec_from_file_location("bench_results", BENCH / "results.py")
_results = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_results)

REPO = BENCH.parent
DEFAULT_GDPR = Path(os.environ.get("SKILLSTACK_CORPORA") or REPO.parent / "shared" / "corpora") / "gdpr" / "gdpr_eurlex.html"
SETS = [("vocabulary, tuning", REPO / "tests" / "data" / "gdpr_questions.jsonl"),
        ("lay, tuning", REPO / "tests" / "data" / "gdpr_lay_questions_tuning.jsonl"),
        ("lay, unseen", REPO / "bench" / "unseen" / "knowledge" / "gdpr_lay_questions.jsonl")]


def questions(path: Path) -> list[tuple[str, set[str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["question"], set(row.get("gold") or row["articles"])) for row in rows]


def start_chroma(path: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen([str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(450):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("chroma run did not answer within 90 s")


def copy_into_server(embedded, served) -> None:
    """The embedded store's chunks, vectors and metadata into the server's collection, then its BM25 index."""
    from skillstack.retrieval.embeddings import embedder_identity
    from skillstack.retrieval.lexical import current_index
    from skillstack.retrieval.store import open_collection

    source = open_collection(embedded, create=False)
    target = open_collection(served, create=True, embedder=embedder_identity(served))
    total = source.count()
    for offset in range(0, total, 256):
        page = source.get(include=["documents", "metadatas", "embeddings"], limit=256, offset=offset)
        target.upsert(ids=page["ids"], documents=page["documents"], metadatas=page["metadatas"],
                      embeddings=[list(map(float, e)) for e in page["embeddings"]])
    current_index(served, target, rebuild=True, save=True)


def index_seconds(settings, *, rebuild: bool = False, repeats: int = 5) -> float:
    from skillstack.retrieval.lexical import current_index
    from skillstack.retrieval.store import open_collection

    collection = open_collection(settings, create=False)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        current_index(settings, collection, rebuild=rebuild)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gdpr", type=Path, default=DEFAULT_GDPR)
    parser.add_argument("--no-write", action="store_true", help="Print the section instead of writing RESULTS.md.")
    args = parser.parse_args()
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.retrieval.retriever import Retriever
    from skillstack.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="skillstack-bench-shared-") as tmp:
        root = Path(tmp)
        embedded = load_settings(root / "embedded")
        report = ingest_paths(embedded, [args.gdpr], progress=False)
        if report.errors or not report.total_chunks:
            raise SystemExit(f"could not ingest {args.gdpr}: {report.errors}; pass --gdpr PATH or set SKILLSTACK_CORPORA")
        server, port = start_chroma(root / "srv")
        try:
            served = load_settings(root / "client", chroma_host="127.0.0.1", chroma_port=port)
            copy_into_server(embedded, served)
            embedder = get_embedder(embedded)
            local, remote = Retriever(embedded, embedder=embedder), Retriever(served, embedder=embedder)
            assert not (root / "client" / "store").exists(), "the server-mode client wrote a local store"
            rows, same, asked = [], 0, 0
            for label, path in SETS:
                items = questions(path)
                cells = []
                for mode in ("lexical", "hybrid"):
                    found = {"embedded": 0, "server": 0}
                    for question, gold in items:
                        hits = {"embedded": local.search(question, 5, mode=mode), "server": remote.search(question, 5, mode=mode)}
                        for name, got in hits.items():
                            found[name] += bool({h.article for h in got} & gold)
                        same += [(h.metadata["chunk_id"], h.score) for h in hits["embedded"]] == \
                                [(h.metadata["chunk_id"], h.score) for h in hits["server"]]
                        asked += 1
                    cells.append((found["embedded"] / len(items), found["server"] / len(items)))
                rows.append((label, len(items), cells))
            folder_s, server_s, rebuild_s = index_seconds(embedded), index_seconds(served), index_seconds(served, rebuild=True)
            chunks = local.count()
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = ["## Shared store (bench/shared_store.py)", "",
             f"Corpus: the EUR-Lex GDPR page ({chunks} chunks), ingested once embedded, then the same chunks and vectors "
             "copied into a real `chroma run` on loopback and searched by a client whose home is empty (its BM25 index "
             "comes from the server). Baseline: the embedded store with its bm25s folder (today's search).", "",
             "| set | questions | lexical recall@5 embedded | server | ratio | hybrid recall@5 embedded | server | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for label, count, ((lex_e, lex_s), (hyb_e, hyb_s)) in rows:
        lines.append(f"| {label} | {count} | {lex_e:.3f} | {lex_s:.3f} | {lex_s / lex_e:.2f}x | {hyb_e:.3f} | "
                     f"{hyb_s:.3f} | {hyb_s / hyb_e:.2f}x |")
    lines += ["", f"Outputs checked: {same}/{asked} queries returned the same chunks with the same scores in both.", "",
              "| a new client gets the BM25 index | median seconds | vs local folder |", "|---|---|---|",
              f"| load the local bm25s folder (baseline, embedded) | {folder_s:.3f} | 1.00x |",
              f"| load the version stored in the Chroma server | {server_s:.3f} | {server_s / folder_s:.2f}x |",
              f"| rebuild from the server's chunks (no stored index) | {rebuild_s:.3f} | {rebuild_s / folder_s:.2f}x |", "",
              "Chroma's own ranking was not an option on this server: `Collection.search` (sparse vectors, BM25 "
              "embedding functions) answers \"not implemented for local executor\" on `chroma run` (chromadb 1.5.9)."]
    body = "\n".join(lines)
    if args.no_write:
        print(body)
    else:
        _results.write_section("shared-store", body)
        print(body)


if __name__ == "__main__":
    main()
