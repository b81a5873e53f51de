"""The advisor: says, with evidence, when fine-tuning is the wrong tool for a dataset or the data is weak.

Fine-tuning teaches how to answer, not what to know: answers full of facts their prompts lack are
knowledge (RAG), table rows with a label are tabular learning (XGBoost, LightGBM). Also label imbalance,
contradictory answers to near-identical prompts, and too few examples. Fact and shape detection live in
facts.py and shapes.py; reading in rows.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .facts import fact_key, lower_words, missing_facts
from .rows import Row, read_rows
from .shapes import is_label, is_table_row
from .similar import clip, near_pairs, normalise
from .validate import MIN_EXAMPLES, RECOMMENDED_EXAMPLES

INFO, WARNING = "info", "warning"
# Examples a skill of each kind needs to hold on unseen inputs (the project's training guidance).
EXAMPLES_FOR_KIND = {"format": 500, "tone": 1000, "classify": 500, "reasoning": 10_000}
# Share of answers that must be labels for the dataset to count as classification.
LABEL_DATASET_SHARE = 0.9


@dataclass(frozen=True)
class Evidence:
    """Where a finding shows: the line(s) of the file and the offending values."""

    lines: tuple[int, ...]
    values: str


@dataclass(frozen=True)
class Advice:
    """One finding of the advisor; `code` is stable (scripts read it), `next_step` says what to do instead."""

    severity: str
    code: str
    message: str
    next_step: str
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.severity}: {self.code}: {self.message} -> {self.next_step}"


@dataclass(frozen=True, kw_only=True)
class AdviseOptions:
    knowledge_share: float = field(default=0.3, metadata={"help": "Warn when more answers than this share carry facts absent from their prompt."})
    constant_share: float = field(default=0.1, metadata={"help": "A fact in more answers than this share is house style (a signature, a fixed delay), not knowledge."})
    table_share: float = field(default=0.5, metadata={"help": "Warn when more rows than this share are serialised table rows with a label answer."})
    majority_share: float = field(default=0.8, metadata={"help": "Warn when the most common label is more than this share of a classification set."})
    min_label_examples: int = field(default=5, metadata={"help": "Warn about labels with fewer examples than this."})
    prompt_similarity: float = field(default=95.0, metadata={"help": "Prompts at least this similar (rapidfuzz ratio, 0-100) are the same question."})
    answer_similarity: float = field(default=70.0, metadata={"help": "Answers less similar than this (0-100) to each other differ."})
    evidence: int = field(default=5, metadata={"help": "Most evidence items shown per finding."})


def _share(count: int, total: int) -> str:
    return f"{count}/{total} ({100 * count / total:.0f}%)"


def check_knowledge(rows: list[Row], options: AdviseOptions) -> list[Advice]:
    """Answers carrying numbers, dates, names, prices or codes that their prompt does not hold."""
    answered = [row for row in rows if row.answer]
    common = set().union(*(lower_words(row.answer) | lower_words(row.context) for row in answered))
    per_row = [(row, missing_facts(row.answer, row.context, common)) for row in answered]
    seen_in = Counter(key for _, facts in per_row for key in {fact_key(f) for f in facts})
    constant = {key for key, n in seen_in.items() if n >= max(3, options.constant_share * len(answered))}
    flagged = [(row, [f for f in facts if fact_key(f) not in constant]) for row, facts in per_row]
    flagged = [(row, facts) for row, facts in flagged if facts]
    if not answered or len(flagged) <= options.knowledge_share * len(answered):
        return []
    kinds = Counter(f.kind for _, facts in flagged for f in facts)
    evidence = tuple(Evidence((row.line,), "; ".join(f"{f.kind} {f.text!r}" for f in facts[:6]))
                     for row, facts in flagged[:options.evidence])
    return [Advice(WARNING, "knowledge_in_answers",
                   f"{_share(len(flagged), len(answered))} answers state facts absent from their prompt "
                   f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())}): this is knowledge, which "
                   "fine-tuning memorises unreliably and cannot update",
                   "ingest the source documents and answer with RAG (`skillstack ingest DOCS`); fine-tune only "
                   "the way of answering, with the facts in the prompt", evidence)]


def check_table(rows: list[Row], options: AdviseOptions) -> list[Advice]:
    """Prompts that are serialised records of short values, answered by a label."""
    tabular = [row for row in rows if is_label(row.answer) and is_table_row(row.user or row.context)]
    if len(tabular) <= options.table_share * len(rows):
        return []
    evidence = tuple(Evidence((row.line,), f"{clip(row.user or row.context)} -> {row.answer.strip()!r}")
                     for row in tabular[:options.evidence])
    return [Advice(WARNING, "serialised_table",
                   f"{_share(len(tabular), len(rows))} prompts are table rows (key=value, CSV or JSON fields) "
                   "with a label answer: a language model is a slow, costly and weaker learner of tabular data",
                   "train a tabular learner such as XGBoost or LightGBM on the columns", evidence)]


def _labels(rows: list[Row]) -> Counter[str] | None:
    answers = [row.answer.strip() for row in rows if row.answer]
    if not answers or sum(map(is_label, answers)) < LABEL_DATASET_SHARE * len(answers):
        return None
    labels = Counter(answers)
    return labels if len(labels) <= max(2, len(answers) // 2) else None


def check_labels(rows: list[Row], options: AdviseOptions) -> list[Advice]:
    """Classification sets: the label distribution, a dominant label, labels with too few examples."""
    labels = _labels(rows)
    if labels is None:
        return []
    total = sum(labels.values())
    shown = ", ".join(f"{label!r} {n}" for label, n in labels.most_common(12))
    found = [Advice(INFO, "label_distribution", f"{len(labels)} labels over {total} answers: {shown}",
                    "compare against the distribution the skill will see in use")]
    label, top = labels.most_common(1)[0]
    lines: defaultdict[str, list[int]] = defaultdict(list)
    for row in rows:
        lines[row.answer.strip()].append(row.line)
    if len(labels) > 1 and top > options.majority_share * total:
        found.append(Advice(WARNING, "label_imbalance", f"{label!r} is {_share(top, total)} of the answers: "
                            "a model that always says it scores as much",
                            "add examples of the other labels, or down-sample this one; report macro-F1, not accuracy",
                            (Evidence(tuple(lines[label][:options.evidence]), label),)))
    rare = [(name, n) for name, n in labels.items() if n < options.min_label_examples]
    if rare:
        found.append(Advice(WARNING, "rare_labels", f"{len(rare)} label(s) with fewer than "
                            f"{options.min_label_examples} examples: too few to learn",
                            "add examples of each, or merge them into a broader label",
                            tuple(Evidence(tuple(lines[name]), f"{name!r} {n}") for name, n in rare[:options.evidence])))
    return found


def _differ(a: str, b: str, options: AdviseOptions) -> bool:
    from rapidfuzz import fuzz

    a, b = normalise(a), normalise(b)
    return a != b and fuzz.ratio(a, b) < options.answer_similarity


def check_contradictions(rows: list[Row], options: AdviseOptions) -> list[Advice]:
    """Near-identical prompts (the same words, or at least prompt_similarity alike) with different answers."""
    groups: defaultdict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.answer:
            groups[normalise(row.user or row.context)].append(row)
    keys = list(groups)
    pairs = [(group[0], other, 100.0) for group in groups.values() for other in group[1:]]
    pairs += [(groups[keys[i]][0], groups[keys[j]][0], score)
              for i, j, score in near_pairs(keys, threshold=options.prompt_similarity)]
    clashes = [(a, b, score) for a, b, score in pairs if _differ(a.answer, b.answer, options)]
    if not clashes:
        return []
    labels = _labels(rows) is not None
    evidence = tuple(Evidence((a.line, b.line), f"{clip(a.user or a.context, 60)} ({score:.0f}% alike): "
                              f"{clip(a.answer, 40)!r} vs {clip(b.answer, 40)!r}")
                     for a, b, score in sorted(clashes, key=lambda c: -c[2])[:options.evidence])
    # Two labels for one question is a contradiction; two wordings of a long answer may only be variety.
    return [Advice(WARNING if labels else INFO, "contradictory_answers",
                   f"{len(clashes)} pair(s) of near-identical prompts have different answers"
                   + ("" if labels else "; fine if they only vary the wording, harmful if they disagree on facts or decisions"),
                   "keep one answer per question, or make the prompts say what decides between them", evidence)]


def check_size(rows: list[Row], options: AdviseOptions, kind: str | None = None) -> list[Advice]:
    """Fewer examples than OpenAI's minimum, its recommended 50, or what a skill of this kind needs."""
    needed = EXAMPLES_FOR_KIND.get(kind or "", RECOMMENDED_EXAMPLES)
    if len(rows) >= needed:
        return []
    if kind in EXAMPLES_FOR_KIND:
        goal = f"a {kind} skill needs about {needed} to hold on unseen inputs"
    elif len(rows) < MIN_EXAMPLES:
        goal = f"OpenAI requires at least {MIN_EXAMPLES}, and gains usually show from 50-100"
    else:
        goal = "gains usually show from 50-100"
    return [Advice(WARNING, "too_few_examples", f"{len(rows)} examples; {goal}",
                   "add varied, curated examples (`skillstack data generate`, then check them) before training")]


CHECKS: tuple[Callable[[list[Row], AdviseOptions], list[Advice]], ...] = (
    check_knowledge, check_table, check_labels, check_contradictions)


def advise_rows(rows: list[Row], options: AdviseOptions | None = None, *, kind: str | None = None) -> list[Advice]:
    """Every finding for a dataset's rows, warnings first."""
    options = options or AdviseOptions()
    found = check_size(rows, options, kind)
    for check in CHECKS:
        found += check(rows, options)
    return sorted(found, key=lambda a: a.severity != WARNING)


def advise_file(path: Path | str, options: AdviseOptions | None = None, *, kind: str | None = None) -> list[Advice]:
    """The advisor on a JSONL dataset (any format); InputError naming the file and line for an unusable line.

    kind: the skill's kind (tone, format, reasoning, classify) sizes the too-few-examples warning.
    """
    _, rows = read_rows(path)
    return advise_rows(rows, options, kind=kind)
