"""A second agent server's view of a shared Chroma server, run as its own process by test_shared_chroma_store.py.

`python shared_store_client.py STOP_FILE QUERY...`: settings come from the environment (SKILLSTACK_HOME,
SKILLSTACK_CHROMA_HOST, SKILLSTACK_CHROMA_PORT). Until STOP_FILE exists it opens a fresh Retriever and
searches every query (hybrid, then lexical), printing one JSON line per round: {"hits": ...} or
{"error": "..."}; then one last round after STOP_FILE appears, marked "final".
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def search_round(settings, embedder, queries: list[str]) -> dict:
    from skillstack.errors import SkillstackError
    from skillstack.retrieval.retriever import Retriever

    try:
        retriever = Retriever(settings, embedder=embedder)
        hits = {f"{mode}:{query}": [[hit.metadata["chunk_id"], hit.source] for hit in retriever.search(query, 3, mode=mode)]
                for query in queries for mode in ("hybrid", "lexical")}
    except SkillstackError as exc:
        return {"error": str(exc)}
    return {"hits": hits}


def main(stop_file: Path, queries: list[str]) -> None:
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.settings import load_settings

    settings = load_settings()
    embedder = get_embedder(settings)
    while not stop_file.exists():
        print(json.dumps(search_round(settings, embedder, queries)), flush=True)
        time.sleep(0.2)
    print(json.dumps({**search_round(settings, embedder, queries), "final": True}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
