"""The store end to end on the shipped Northwind demo code: incremental ingest, removal, bad files,
one writer at a time, SIGKILL mid-ingest, CLI errors, and a RAG answer from the real base model."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from skillstack.cli.main import main
from skillstack.errors import StoreError

pytestmark = pytest.mark.slow
DEMO_DOCS = Path(__file__).resolve().parents[2] / "demo" / "docs"


def ingest_cli(home: Path, *args: str) -> tuple[int, dict]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--home", str(home), "ingest", *args, "--json", "-q"])
    return code, json.loads(out.getvalue())


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(DEMO_DOCS, folder)
    return folder


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory):
    """A store holding the demo documents, shared by the read-only tests of this module."""
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    settings = load_settings(tmp_path_factory.mktemp("demo-home"))
    report = ingest_paths(settings, [DEMO_DOCS], progress=False)
    assert not report.errors and len(report.added) == 2
    return settings


def test_demo_code_is_ingested_by_article_from_markdown_and_html(demo_settings):
    from skillstack.retrieval.retriever import Retriever

    retriever = Retriever(demo_settings)
    deposit = retriever.search("How many days does the landlord have to return the deposit?", 3)
    assert deposit[0].article == "4" and deposit[0].metadata["title"] == "Deposits"
    breach = retriever.search("data breach notification 72 hours", 3)
    assert breach[0].article == "17" and breach[0].source.endswith("northwind-code-data.html")


def test_changed_file_replaces_only_its_changed_chunks_and_removal_follows_in_bm25(settings, docs):
    from skillstack.retrieval.ingest import ingest_paths, remove_source
    from skillstack.retrieval.retriever import Retriever

    first = ingest_paths(settings, [docs], progress=False)
    markdown = docs / "northwind-code-tenancy.md"
    markdown.write_text(markdown.read_text().replace("four weeks' rent", "five weeks' rent (amended)"))
    second = ingest_paths(settings, [docs], progress=False)
    assert second.updated == [str(markdown.resolve())] and len(second.unchanged) == 1
    assert second.chunks_written == second.chunks_deleted == 1 and second.total_chunks == first.total_chunks
    hits = Retriever(settings).search("amended", 1, mode="lexical")
    assert hits[0].article == "4" and "five weeks" in hits[0].text

    from_markdown = sum(1 for m in _metadatas(settings) if m["source"] == str(markdown.resolve()))
    assert from_markdown > 5 and remove_source(settings, markdown) == from_markdown
    retriever = Retriever(settings)
    assert all(hit.source.endswith(".html") for hit in retriever.search("deposit tenancy repairs", 10, mode="lexical"))
    assert all(hit.source.endswith(".html") for hit in retriever.search("deposit tenancy repairs", 10, mode="dense"))


def _metadatas(settings):
    from skillstack.retrieval import store

    return store.read_all(store.open_collection(settings, create=False))["metadatas"]


def test_remove_cli_reports_how_many_chunks_went(settings, docs, capsys):
    code, report = ingest_cli(settings.home, str(docs))
    assert code == 0
    assert main(["--home", str(settings.home), "remove", str(docs / "northwind-code-data.html"), "--json"]) == 0
    removed = json.loads(capsys.readouterr().out)
    assert removed["removed"] == 10 and len(_metadatas(settings)) == report["total_chunks"] - 10
    assert main(["--home", str(settings.home), "remove", str(docs / "northwind-code-data.html")]) == 0
    assert "nothing from" in capsys.readouterr().out


def test_prune_leaves_the_store_holding_only_what_this_run_found(settings, docs, tmp_path):
    # Another copy of the same documents (a second checkout) and a file deleted since: both go with --prune.
    other = tmp_path / "elsewhere"
    shutil.copytree(docs, other)
    ingest_cli(settings.home, str(docs))
    ingest_cli(settings.home, str(other))
    (docs / "northwind-code-data.html").unlink()
    code, report = ingest_cli(settings.home, str(docs), "--prune")
    assert code == 0
    assert sorted(report["removed"]) == sorted([str((docs / "northwind-code-data.html").resolve()),
                                                 *(str(p.resolve()) for p in sorted(other.iterdir()))])
    sources = {m["source"] for m in _metadatas(settings)}
    assert sources == {str((docs / "northwind-code-tenancy.md").resolve())}
    from skillstack.retrieval.retriever import Retriever

    assert {hit.source for hit in Retriever(settings).search("deposit data breach", 10, mode="lexical")} == sources


def test_bm25_index_lagging_chroma_is_rebuilt_not_trusted(settings, docs):
    from skillstack.retrieval.ingest import ingest_paths, remove_source
    from skillstack.retrieval.lexical import LexicalIndex, lexical_dir
    from skillstack.retrieval.retriever import Retriever

    ingest_paths(settings, [docs], progress=False)
    stale = LexicalIndex.load(lexical_dir(settings))
    remove_source(settings, docs / "northwind-code-data.html")
    stale.save(lexical_dir(settings))  # as if a writer died between its Chroma delete and its BM25 save
    hits = Retriever(settings).search("personal data breach Data Commissioner", 10, mode="lexical")
    assert hits and all(hit.source.endswith(".md") for hit in hits)
    assert ingest_paths(settings, [docs / "northwind-code-tenancy.md"], progress=False).chunks_written == 0
    assert LexicalIndex.load(lexical_dir(settings)).digest != stale.digest


def test_bad_files_get_one_line_errors_while_the_good_ones_go_in(home, tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(DEMO_DOCS / "northwind-code-tenancy.md", folder / "good.md")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 garbage")
    (folder / "latin1.txt").write_bytes("r\u00e9sum\u00e9".encode("latin-1"))
    (folder / "notes.rtf").write_text("{\\rtf1 x}")
    code = main(["--home", str(home), "ingest", str(folder), "--json", "-q"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 2 and report["added"] == [str((folder / "good.md").resolve())] and report["total_chunks"] > 10
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all(any(name in line for name in ("empty.txt", "broken.pdf", "latin1.txt"))
                                    for line in errors)
    assert any(line.startswith("warning:") and "notes.rtf" in line and "unsupported" in line
               for line in captured.err.splitlines())
    assert "Traceback" not in captured.err


def test_bad_queries_and_missing_store_exit_2_with_one_line(home, demo_settings, capsys):
    assert main(["--home", str(home), "search", "deposit"]) == 2
    assert "no knowledge store" in capsys.readouterr().err
    for args in (["search", "   "], ["search", "deposit", "-k", "0"], ["search", "deposit", "--mode", "fuzzy"]):
        assert main(["--home", str(demo_settings.home), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_second_writer_gets_store_locked_by_pid(settings, docs, capsys):
    from skillstack.retrieval.ingest import ingest_paths

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom skillstack.settings import load_settings\n"
         "from skillstack.retrieval.store import write_lock\n"
         "with write_lock(load_settings(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(120)\n",
         str(settings.home)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match=rf"store .* is locked by PID {holder.pid}"):
            ingest_paths(settings, [docs], progress=False)
        assert main(["--home", str(settings.home), "ingest", str(docs), "-q"]) == 2
        assert f"locked by PID {holder.pid}" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert ingest_paths(settings, [docs], progress=False).total_chunks > 0  # the kernel freed the dead holder's lock


def test_sigkill_mid_ingest_then_rerun_loses_and_duplicates_nothing(settings, tmp_path):
    from skillstack.retrieval import store
    from skillstack.retrieval.chunking import chunk_text
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.retrieval.lexical import LexicalIndex, ids_digest, lexical_dir
    from skillstack.retrieval.loaders import load_document

    folder = tmp_path / "many"
    folder.mkdir()
    for doc in range(4):
        articles = [f"## Article {n} \u2014 Rule {doc}.{n}\nDocument {doc} rule {n}: tenants and landlords shall "
                    f"observe obligation number {n} of schedule {doc}." for n in range(1, 11)]
        (folder / f"schedule-{doc}.md").write_text("\n".join(articles))
    expected = {c.id for path in folder.iterdir() for c in chunk_text(load_document(path).text, source=str(path.resolve()))}
    assert len(expected) == 40

    process = subprocess.Popen([sys.executable, "-m", "skillstack.cli.main", "--home", str(settings.home), "ingest",
                                str(folder), "--batch-size", "1"], stderr=subprocess.PIPE)
    progress = {"done": 0}

    def watch() -> None:
        buffer = b""
        while chunk := os.read(process.stderr.fileno(), 4096):
            buffer = (buffer + chunk)[-4096:]
            counts = re.findall(rb"embedding:.*?(\d+)/40", buffer)
            if counts:
                progress["done"] = int(counts[-1])

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while progress["done"] < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "ingest finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    reader.join(timeout=5)
    collection = store.open_collection(settings, create=False)
    written_before = collection.count()
    assert 0 < written_before < 40

    report = ingest_paths(settings, [folder], progress=False)
    assert report.chunks_written == 40 - written_before and report.chunks_deleted == 0
    ids = collection.get(include=[])["ids"]
    assert len(ids) == 40 and set(ids) == expected
    assert LexicalIndex.load(lexical_dir(settings)).digest == ids_digest(ids)
    assert ingest_paths(settings, [folder], progress=False).chunks_written == 0


def test_rag_answer_from_the_base_model_cites_only_retrieved_articles(demo_settings):
    from skillstack.retrieval.answer import answer_question
    from skillstack.retrieval.retriever import Retriever
    from skillstack.skills.runtime import chat_model

    hits = Retriever(demo_settings).search("How many days does a landlord have to return the deposit?", 3)
    result = answer_question("How many days does a landlord have to return the deposit?", hits,
                             chat_model(demo_settings, "base", max_tokens=48))
    retrieved = {hit.article for hit in hits}
    assert result["answer"].strip()
    assert result["citations"] and {c["article"] for c in result["citations"]} <= retrieved
    assert result["citations"][0]["article"] == "4"
    assert re.search(r"\[Article \d+\]", result["answer"])
    assert result["sources"] and all(s.endswith((".md", ".html")) for s in result["sources"])


def test_quoted_rag_answer_gives_the_sentence_that_answers_with_its_article(demo_settings):
    """The deposit article holds two deadlines (14 days to lodge, 10 days to return) and the data code's annex
    table lists both without an article: the quote is the returning sentence, verbatim, cited as Article 4."""
    from skillstack.retrieval.answer import answer_question
    from skillstack.retrieval.retriever import Retriever

    retriever = Retriever(demo_settings)
    question = "Within how many days after the tenancy ends must a landlord return the deposit?"
    hits = retriever.search(question, 5)
    result = answer_question(question, hits, None, mode="quote", embedder=retriever.embedder)
    quote = re.search(r'"(.+)"', result["answer"]).group(1)
    assert "Within 10 days after the tenancy ends" in quote
    assert all(sentence in hits[[h.article for h in hits].index("4")].text for sentence in quote.split(". ") if sentence)
    assert result["answer"].endswith("[Article 4]")
    assert [c["article"] for c in result["citations"]] == ["4"]
    assert "Time limits at a glance" not in result["answer"]
