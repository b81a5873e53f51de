"""The knowledge store as a state machine (hypothesis.stateful): random ingest / change / delete / remove /
re-ingest sequences, with ingests interrupted after k embedded chunks, against a model of what it must hold.

Invariants after every step: each source holds exactly the chunks of its last completed ingest (after an
interrupted one: the old chunks, plus at most the new ones), none twice; every chunk has its vector; and the
lexical (BM25) half a reader gets holds exactly the ids of the dense (Chroma) half. Real Chroma, real embedder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from skillstack.retrieval import store
from skillstack.retrieval.chunking import chunk_text
from skillstack.retrieval.embeddings import get_embedder
from skillstack.retrieval.ingest import ingest_paths, remove_source
from skillstack.retrieval.lexical import current_index
from skillstack.retrieval.loaders import load_document
from skillstack.settings import load_settings

pytestmark = pytest.mark.slow

NAMES = ("a.md", "b.txt", "c.md")
# Short paragraphs from a small pool: repeats within a file and across files are likely (same text, two chunks).
PARAGRAPHS = st.sampled_from(["# Article 4\n\nThe landlord returns the deposit within 30 days.",
                              "Repairs are the landlord's duty.", "Rent is due monthly.",
                              "# Article 9\n\n" + "Notice must be given in writing. " * 12,
                              "Pets need consent.", "Rent is due monthly."])
DOCUMENTS = st.lists(PARAGRAPHS, min_size=1, max_size=5).map("\n\n".join)


class Interrupted(Exception):
    """Raised by the embedder to cut an ingest short, as a kill between two batches would."""


class CountingEmbedder:
    """The real embedder, failing after `limit` calls (None: never)."""

    def __init__(self, real, limit: int | None) -> None:
        self.real, self.limit, self.calls = real, limit, 0
        self.name = real.name

    def embed(self, texts, *, batch_size: int = 32):
        if self.limit is not None and self.calls >= self.limit:
            raise Interrupted
        self.calls += 1
        return self.real.embed(texts, batch_size=batch_size)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="skillstack-ingest-sm-"))
        self.docs = self.root / "docs"
        self.docs.mkdir()
        self.settings = load_settings(self.root / "home")
        self.embedder = get_embedder(self.settings)
        self.on_disk: dict[str, str] = {}
        self.held: dict[str, set[str]] = {}  # source -> ids it must hold
        self.maybe: dict[str, set[str]] = {}  # source -> ids an interrupted ingest may have added

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _source(self, name: str) -> str:
        return str((self.docs / name).resolve())

    def _ids(self, name: str) -> set[str]:
        document = load_document(self.docs / name)
        return {chunk.id for chunk in chunk_text(document.text, source=document.source)}

    def _ingested(self, names) -> None:
        for name in names:
            self.held[self._source(name)] = self._ids(name)
            self.maybe.pop(self._source(name), None)

    @rule(name=st.sampled_from(NAMES), text=DOCUMENTS)
    def write_file(self, name: str, text: str) -> None:
        (self.docs / name).write_text(text, encoding="utf-8")
        self.on_disk[name] = text

    @precondition(lambda self: self.on_disk)
    @rule(data=st.data())
    def delete_file(self, data) -> None:
        name = data.draw(st.sampled_from(sorted(self.on_disk)))
        (self.docs / name).unlink()
        del self.on_disk[name]  # its chunks stay in the store until removed

    @precondition(lambda self: self.on_disk)
    @rule(batch_size=st.integers(1, 4))
    def ingest_folder(self, batch_size: int) -> None:
        report = ingest_paths(self.settings, [self.docs], progress=False, embedder=self.embedder, batch_size=batch_size)
        assert not report.errors
        self._ingested(self.on_disk)

    @precondition(lambda self: self.on_disk)
    @rule(data=st.data())
    def ingest_one_file(self, data) -> None:
        name = data.draw(st.sampled_from(sorted(self.on_disk)))
        ingest_paths(self.settings, [self.docs / name], progress=False, embedder=self.embedder)
        self._ingested([name])

    @precondition(lambda self: self.on_disk)
    @rule(after=st.integers(0, 3))
    def interrupted_ingest(self, after: int) -> None:
        embedder = CountingEmbedder(self.embedder, after)
        try:
            ingest_paths(self.settings, [self.docs], progress=False, embedder=embedder, batch_size=1)
        except Interrupted:
            for name in self.on_disk:  # old chunks are deleted only at the end: they are all still there
                source = self._source(name)
                self.maybe[source] = self.maybe.get(source, set()) | self._ids(name)
            return
        self._ingested(self.on_disk)  # fewer chunks to embed than the limit: it completed

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def remove(self, data) -> None:
        source = data.draw(st.sampled_from(sorted(self.held)))
        remove_source(self.settings, Path(source))
        del self.held[source]
        self.maybe.pop(source, None)

    @invariant()
    def store_matches_the_model(self) -> None:
        if not store.store_exists(self.settings):
            assert not self.held
            return
        collection = store.open_collection(self.settings, create=False)
        everything = collection.get(include=["metadatas", "embeddings"])
        ids = everything["ids"]
        assert len(ids) == len(set(ids))
        assert all(vector is not None and len(vector) > 0 for vector in everything["embeddings"])
        actual: dict[str, set[str]] = {}
        for chunk_id, metadata in zip(ids, everything["metadatas"]):
            actual.setdefault(metadata["source"], set()).add(chunk_id)
        assert set(actual) <= set(self.held) | set(self.maybe)
        for source in set(self.held) | set(actual):
            held, got = self.held.get(source, set()), actual.get(source, set())
            assert held <= got <= held | self.maybe.get(source, set()), source  # no lost, no foreign chunks
        lexical = current_index(self.settings, collection)
        assert sorted(lexical.ids) == sorted(ids)  # dense and lexical halves in step


StoreMachine.TestCase.settings = settings(max_examples=6, stateful_step_count=8, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
test_the_store_never_loses_nor_duplicates_a_chunk = StoreMachine.TestCase
