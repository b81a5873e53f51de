"""CLI commands of the knowledge store: `ingest`, `remove`, `reembed` and `search` (`ask` runs the whole graph: cmd_graph).

Heavy imports (Chroma, sentence-transformers) happen inside the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer

from skillstack.errors import InputError
from .common import INPUT_OPTION, JSON_OPTION, each_item, emit, run_inputs, settings_from

# Top-level commands (no group name): `skillstack ingest`, not `skillstack retrieval ingest`.
app = typer.Typer()

MODE_OPTION = typer.Option("hybrid", "--mode", help="hybrid (dense + BM25, fused by RRF), dense or lexical.")
FILTER_OPTION = typer.Option(None, "--filter", help="Metadata filter key=value (repeatable; all must hold), e.g. --filter kind=article.")


def _human_report(report: dict[str, Any]) -> str:
    lines = [f"{len(report['added'])} added, {len(report['updated'])} updated, {len(report['unchanged'])} unchanged, "
             f"{len(report['skipped'])} skipped, {len(report['errors'])} failed; "
             f"{report['chunks_written']} chunks written, {report['chunks_deleted']} deleted, "
             f"{report['total_chunks']} in the store"]
    lines += [f"removed (not found by this run): {source}" for source in report["removed"]]
    return "\n".join(lines)


def _human_hits(hits: list[dict[str, Any]]) -> str:
    if not hits:
        return "no results"
    lines = []
    for rank, hit in enumerate(hits, start=1):
        meta = hit["metadata"]
        where = f"Article {meta['article']}" if meta.get("article") else (meta.get("title") or meta.get("kind", ""))
        if meta.get("article") and meta.get("title"):
            where += f" — {meta['title']}"
        snippet = " ".join(hit["text"].split())[:200]
        lines.append(f"{rank}. [{hit['score']:.4f}] {where}  ({Path(hit['source']).name})\n   {snippet}")
    return "\n".join(lines)


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or folders to ingest (folders recursively)."),
    as_json: bool = JSON_OPTION,
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Chunks embedded and upserted per batch."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    prune: bool = typer.Option(False, "--prune", help="Make the store hold these paths only: delete every source "
                                                      "this run did not find (deleted files, other folders)."),
) -> None:
    """Load, chunk, embed and store documents; unchanged files are skipped, changed ones replaced."""
    from skillstack.retrieval.ingest import ingest_paths

    settings = settings_from(ctx)
    report = ingest_paths(settings, paths, progress=not quiet, batch_size=batch_size, prune=prune).to_dict()
    for warning in report["skipped"]:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report["errors"]:
        print(f"error: {error}", file=sys.stderr)
    emit(report, as_json, _human_report)
    if report["errors"]:
        raise typer.Exit(2)


@app.command("remove")
def remove(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A file (or folder) whose chunks to delete from the store."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a source's chunks from the store (the file itself is left alone)."""
    from skillstack.retrieval.ingest import remove_source

    settings = settings_from(ctx)
    removed = remove_source(settings, path)
    emit({"source": str(path.expanduser().resolve()), "removed": removed}, as_json,
         lambda data: f"removed {data['removed']} chunks of {data['source']}" if data["removed"]
         else f"nothing from {data['source']} is in the store")


@app.command("reembed")
def reembed(
    ctx: typer.Context,
    as_json: bool = JSON_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Rebuild every vector of the store with the configured embedding_model (e.g. one from `train embedder`)."""
    from skillstack.retrieval.embeddings import embedder_identity
    from skillstack.retrieval.ingest import reembed_store

    settings = settings_from(ctx)
    count = reembed_store(settings, progress=not quiet)
    emit({"chunks": count, "embedder": str(embedder_identity(settings))}, as_json,
         lambda data: f"re-embedded {data['chunks']} chunks with {data['embedder']}")


@app.command("search")
def search(
    ctx: typer.Context,
    query: Optional[str] = typer.Argument(None, help="What to search for."),
    k: int = typer.Option(5, "-k", "--top-k", help="How many hits to return (1 or more)."),
    as_json: bool = JSON_OPTION,
    input_file: Optional[Path] = INPUT_OPTION,
    mode: str = MODE_OPTION,
    filters: Optional[list[str]] = FILTER_OPTION,
    rerank: Optional[int] = typer.Option(None, "--rerank", metavar="N",
                                         help="Rerank the top N units by the base model's query likelihood "
                                              "(slow: ~N chunk reads per query); 0 = off; default: setting rerank_top_n."),
) -> None:
    """Search the store: dense + BM25 fused by RRF; the top k distinct articles/recitals/sections, each with its citation."""
    from skillstack.retrieval.filters import parse_filter_args
    from skillstack.retrieval.retriever import Retriever, validate_query

    if k < 1:
        raise InputError(f"-k must be 1 or more, got {k}")
    settings = settings_from(ctx)
    # -k, --mode and --rerank hold for every line: checked before the store opens
    validate_query("-", k, mode, settings.rerank_top_n if rerank is None else rerank)
    where = parse_filter_args(filters or [])

    def answer(texts: list[str]) -> Iterator[Any]:
        retriever = Retriever(settings)
        yield from each_item(lambda text: [hit.to_dict() for hit in retriever.search(text, k, where=where, mode=mode,
                                                                                     rerank=rerank)], texts)

    run_inputs(query, input_file, "query", answer, as_json=as_json, human=_human_hits)
