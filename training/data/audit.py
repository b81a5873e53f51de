"""Leakage between a training file and an evaluation file: exact and near-duplicate prompts and answers,
and word n-gram overlap, with the worst pairs by line on both sides. A report, not a gate.

Prompts (user turns) and answers are compared separately; label answers are not compared, since a
classification set's eval answers are its train answers by design. Similarity helpers are in similar.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import chain
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .rows import Row, read_rows
from .shapes import is_label
from .similar import clip, near_pairs, ngrams, normalise

# The train rows remembered per n-gram, to name the row an eval row overlaps most; boilerplate n-grams
# found in every row would otherwise cost a count per row.
_SOURCES_PER_NGRAM = 32


@dataclass(frozen=True, kw_only=True)
class AuditOptions:
    ngram: int = field(default=8, metadata={"help": "Word n-gram length for the overlap measure."})
    near: float = field(default=90.0, metadata={"help": "Texts at least this similar (rapidfuzz ratio, 0-100) are near-duplicates."})
    top: int = field(default=10, metadata={"help": "Worst pairs listed per side."})


@dataclass(frozen=True)
class Pair:
    """An eval row and the train row it leaks from: how (exact, near, ngram), and how much (0-100)."""

    eval_line: int
    train_line: int
    match: str
    score: float


def _ngram_overlap(train: list[tuple[int, str]], evals: list[tuple[int, str]], n: int) -> tuple[dict[str, Any], list[Pair]]:
    lines: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
    for line, text in train:
        for gram in ngrams(text.split(), n):
            if len(lines[gram]) < _SOURCES_PER_NGRAM:
                lines[gram].append(line)
    total = found = rows_with = 0
    worst: list[Pair] = []
    for line, text in evals:
        grams = ngrams(text.split(), n)
        shared = [g for g in grams if g in lines]
        total += len(grams)
        found += len(shared)
        if shared:
            rows_with += 1
            source = Counter(chain.from_iterable(lines[g] for g in shared)).most_common(1)[0][0]
            worst.append(Pair(line, source, "ngram", round(100 * len(shared) / len(grams), 1)))
    worst.sort(key=lambda p: -p.score)
    summary = {"n": n, "share": round(found / total, 4) if total else 0.0, "rows_with_overlap": rows_with,
               "max_row_share": round(worst[0].score / 100, 4) if worst else 0.0}
    return summary, worst


def compare_texts(train: list[tuple[int, str]], evals: list[tuple[int, str]], options: AuditOptions) -> dict[str, Any]:
    """Leakage of one side (prompts or answers): (line, text) pairs of each file in, a summary with worst pairs out."""
    raw_train, raw_eval = dict(train), dict(evals)
    train = [(line, normalise(text)) for line, text in train if text.strip()]
    evals = [(line, normalise(text)) for line, text in evals if text.strip()]
    train_line: dict[str, int] = {}
    for line, text in train:
        train_line.setdefault(text, line)
    exact = [Pair(line, train_line[text], "exact", 100.0) for line, text in evals if text in train_line]
    queries = list(dict.fromkeys(text for _, text in evals if text not in train_line))
    choices = list(train_line)
    best: dict[str, tuple[float, str]] = {}
    for i, j, score in near_pairs(queries, choices, threshold=options.near):
        if score > best.get(queries[i], (0.0, ""))[0]:
            best[queries[i]] = (score, choices[j])
    near = [Pair(line, train_line[best[text][1]], "near", best[text][0])
            for line, text in evals if text in best]
    overlap, by_ngram = _ngram_overlap(train, evals, options.ngram)
    leaked = {p.eval_line for p in exact + near}
    worst = sorted(exact + near, key=lambda p: -p.score) + [p for p in by_ngram if p.eval_line not in leaked]
    return {"compared": len(evals), "exact": len(exact), "near": len(near),
            "leaked_share": round(len(leaked) / len(evals), 4) if evals else 0.0, "ngram": overlap,
            "pairs": [{**asdict(p), "eval_text": clip(raw_eval[p.eval_line]), "train_text": clip(raw_train[p.train_line])}
                      for p in worst[:options.top]]}


def audit_rows(train: list[Row], evals: list[Row], options: AuditOptions | None = None) -> dict[str, Any]:
    """The leakage report between two row lists; `leaked_share` is the larger of the prompts' and answers'."""
    options = options or AuditOptions()
    prompts = compare_texts([(r.line, r.user or r.context) for r in train], [(r.line, r.user or r.context) for r in evals], options)
    long_answers = [r for r in evals if r.answer and not is_label(r.answer)]
    answers = compare_texts([(r.line, r.answer) for r in train if not is_label(r.answer)],
                            [(r.line, r.answer) for r in long_answers], options)
    answers["labels_skipped"] = sum(1 for r in evals if r.answer) - len(long_answers)
    return {"train_rows": len(train), "eval_rows": len(evals), "options": asdict(options), "prompts": prompts,
            "answers": answers, "leaked_share": max(prompts["leaked_share"], answers["leaked_share"])}


def audit_files(train_path: Path | str, eval_path: Path | str, options: AuditOptions | None = None) -> dict[str, Any]:
    """audit_rows on two JSONL datasets (any formats); InputError naming the file and line for an unusable line."""
    _, train = read_rows(train_path)
    _, evals = read_rows(eval_path)
    return {"train": str(train_path), "eval": str(eval_path), **audit_rows(train, evals, options)}
