"""The evaluation engine behind `skillstack eval`: a skill against baselines on held-out data, with graders.

Each grader is one metric; each condition (the skill, then every baseline: the base model on the data's
own prompts, the base model told its own system prompt and optionally decoding under the skill's JSON
Schema or label set, or RAG) gets every metric; a classify skill's conditions also get accuracy, macro-F1
and a confusion matrix (graders optional). The skill is promoted only when it beats every base-model
baseline on the primary metric (on the unseen set too, when one is given). Holds the baseline spec, the held-out items and the scoring; generation lives in
eval_answers.py, the card's format in eval_card.py, the folder write in skill_writer.py's publish_skill.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import InputError
from skillstack.messages import content_text
from skillstack.settings import Settings
from .data.formats import PREFERENCE, prompt_and_answer
from .data.validate import validate_file
from .classification import classification_scores
from .eval_answers import Output, Prompt, generate_outputs, rag_outputs
from .eval_card import SKILL_LABEL, Condition, EvalCard, Evaluation, promoted
from .graders import Grader, build_grader

BUILT_IN_BASELINES = ("base", "rag")
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """A way to ask the base model (no adapter) for the same task, to compare the skill with."""

    label: str = field(metadata={"help": "Row name in the eval card."})
    system_prompt: str | None = field(default=None, metadata={"help": "What the base model is told; None: the data's prompts."})
    constrained: bool = field(default=False, metadata={"help": "Decode under the skill's JSON Schema (or its labels)."})
    retrieval: bool = field(default=False, metadata={"help": "Answer with the top retrieved chunks (RAG); reported, no promotion gate."})


def built_in_baseline(name: str) -> Baseline:
    """`--against` names: "base" (the data's prompts as they are) or "rag" (the knowledge store)."""
    if name not in BUILT_IN_BASELINES:
        raise InputError(f"--against takes {', '.join(BUILT_IN_BASELINES)} or none, got {name!r}")
    return Baseline(label=name, retrieval=name == "rag")


def as_sample(output: Output) -> dict[str, Any]:
    """A grader sample from an answer: output_json is the runtime's parsed JSON, else the text parsed when it is JSON."""
    parsed = output.parsed
    if parsed is None:
        try:
            parsed = json.loads(output.text)
        except (json.JSONDecodeError, RecursionError):
            parsed = None
    return {"output_text": output.text, "output_json": parsed}


def eval_items(examples: list[dict[str, Any]], fmt: str) -> list[tuple[Prompt, dict[str, Any]]]:
    """(prompt messages, grader item) per example; the item gains `reference` (the dataset's answer) if absent."""
    pairs = []
    for example in examples:
        prompt, answer = prompt_and_answer(example, fmt)
        item = dict(example)
        if answer is not None:
            item.setdefault("reference", answer)
        messages = [(str(m.get("role")) if m.get("role") != "developer" else "system", content_text(m.get("content")))
                    for m in prompt]
        pairs.append((messages, item))
    return pairs


def heldout_items(data_file: Path, limit: int | None) -> tuple[list[tuple[Prompt, dict[str, Any]]], list[int]]:
    """The file's clean examples as eval items, with their line numbers; InputError when it cannot be held-out data."""
    report = validate_file(data_file)
    # A held-out set may be small: the 10-example training minimum does not apply.
    blocking = [f for f in report.errors if f.code != "too_few_examples"]
    if blocking or not report.items or report.format == PREFERENCE:
        raise InputError(f"{data_file}: not usable held-out data ({report.format}, {len(blocking)} error(s), "
                         f"{len(report.items)} clean example(s)); use chat or reinforcement examples and check them "
                         "with `skillstack data validate`")
    examples = report.items[:limit] if limit else report.items
    return eval_items(examples, report.format), report.item_lines[:len(examples)]


def score_condition(graders: list[Grader], items: list[dict[str, Any]], outputs: list[Output]) -> list[dict[str, float]]:
    """Every grader's score for every answer: one {grader name: score} per item."""
    samples = [as_sample(out) for out in outputs]
    return [{g.name: g.grade(sample, item) for g in graders} for sample, item in zip(samples, items, strict=True)]


def condition_row(graders: list[Grader], per_item: list[dict[str, float]], outputs: list[Output], *, label: str,
                  model: str, baseline: Baseline | None = None) -> Condition:
    """A card row: each metric's mean and pass rate, mean prompt tokens and failed answers."""
    return Condition(label=label, model=model, system_prompt=baseline.system_prompt if baseline else None,
                     constrained=bool(baseline and baseline.constrained), retrieval=bool(baseline and baseline.retrieval),
                     metrics={g.name: round(statistics.fmean(s[g.name] for s in per_item), 4) for g in graders},
                     pass_rates={g.name: round(sum(g.passed(s[g.name]) for s in per_item) / len(per_item), 4) for g in graders},
                     prompt_tokens_mean=round(statistics.fmean(o.prompt_tokens for o in outputs), 1),
                     errors=sum(o.error is not None for o in outputs))


def _check_plan(grader_specs: list[dict[str, Any]], baselines: list[Baseline], primary: str | None, *,
                classify: bool) -> str:
    names = [spec.get("name") or spec.get("type") for spec in grader_specs]
    labels = [b.label for b in baselines]
    if not grader_specs and not classify:
        raise InputError("skillstack eval needs at least one --grader")
    if len(set(names)) != len(names):
        raise InputError(f"grader names must differ (each is a metric of the card), got {', '.join(map(str, names))}")
    if not any(not b.retrieval for b in baselines):
        raise InputError("skillstack eval needs a base-model baseline to promote against: --against base or --baseline")
    if len(set(labels)) != len(labels) or SKILL_LABEL in labels:
        raise InputError(f"baseline labels must differ and not be {SKILL_LABEL!r}, got {', '.join(labels)}")
    metrics = [*names, *CLASSIFICATION_METRICS] if classify else names
    if primary is not None and primary not in metrics:
        raise InputError(f"--primary {primary!r} is no metric of this card ({', '.join(map(str, metrics))})")
    return primary or str(metrics[0])


def add_classification(conditions: list[Condition], runs: dict[str, list[Output]], items: list[dict[str, Any]],
                       labels: list[str]) -> None:
    """A classify skill's card: each condition gains accuracy, macro-F1 and its confusion matrix."""
    references = [str(item.get("reference", "")).strip() for item in items]
    for condition in conditions:
        scores = classification_scores(labels, references, [o.text for o in runs[condition.label]])
        condition.metrics |= {name: scores[name] for name in CLASSIFICATION_METRICS}
        condition.confusion = scores["confusion"]


def evaluate_skill(settings: Settings, skill_name: str, data_file: Path, grader_specs: list[dict[str, Any]], *,
                   baselines: list[Baseline], primary: str | None = None, limit: int | None = None,
                   max_tokens: int | None = None, progress: bool = True, write: bool = True,
                   unseen: Path | None = None) -> Evaluation:
    """Grade the skill and each baseline on the held-out file (and `unseen`, when given, the same way); write the
    card into the skill folder unless told not to."""
    from skillstack.skills.manifest import load_manifest
    from skillstack.skills.runtime import get_runtime
    from .skill_writer import publish_skill

    skill = get_runtime(settings).skill(skill_name)
    labels = list(skill.manifest.labels)
    primary = _check_plan(grader_specs, baselines, primary, classify=bool(labels))
    if skill.schema is None and not labels and any(b.constrained for b in baselines):
        raise InputError(f"a constrained baseline decodes under the skill's JSON Schema or labels, and {skill_name} "
                         "has neither; use --baseline instead")
    graders = [build_grader(spec, settings=settings) for spec in grader_specs]
    retriever = None
    if any(b.retrieval for b in baselines):  # opened before any generation, so a missing store fails fast
        from skillstack.retrieval.retriever import Retriever

        retriever = Retriever(settings)
    pairs, lines = heldout_items(data_file, limit)
    prompts, items = [p for p, _ in pairs], [i for _, i in pairs]
    tokens = max_tokens or skill.manifest.generation.max_tokens

    runs = {SKILL_LABEL: generate_outputs(settings, skill_name, prompts, max_tokens=tokens, progress=progress)}
    for b in baselines:
        runs[b.label] = (rag_outputs(settings, retriever, prompts, progress=progress) if b.retrieval else
                         generate_outputs(settings, "base", prompts, system_prompt=b.system_prompt, max_tokens=tokens,
                                          json_schema=skill.schema if b.constrained else None,
                                          labels=labels if b.constrained and labels else None, progress=progress,
                                          label=b.label))
    scored = {label: score_condition(graders, items, outs) for label, outs in runs.items()}
    conditions = [condition_row(graders, scored[SKILL_LABEL], runs[SKILL_LABEL], label=SKILL_LABEL, model=skill_name)]
    conditions += [condition_row(graders, scored[b.label], runs[b.label], label=b.label, model="base", baseline=b)
                   for b in baselines]
    if labels:
        add_classification(conditions, runs, items, labels)
    data_file = Path(data_file)
    shipped = data_file.resolve().parent == skill.path.resolve()  # a held-out set inside the folder is named by its name
    card = EvalCard(skill=skill_name, data=data_file.name if shipped else str(data_file),
                    data_sha256=hashlib.sha256(data_file.read_bytes()).hexdigest(), items=len(items),
                    graders=[{**spec, "name": g.name} for g, spec in zip(graders, grader_specs, strict=True)],
                    primary_metric=primary, conditions=conditions, promoted=promoted(conditions, primary), labels=labels)
    outputs = [{"item": i, "line": line, "condition": label, "output": outs[i].text, "error": outs[i].error,
                "scores": scored[label][i]} for label, outs in runs.items() for i, line in enumerate(lines)]
    if unseen is not None:
        other = evaluate_skill(settings, skill_name, unseen, grader_specs, baselines=baselines, primary=primary,
                               limit=limit, max_tokens=max_tokens, progress=progress, write=False)
        card.unseen, card.promoted = other.card, card.promoted and other.card.promoted
        outputs += [{"set": "unseen", **row} for row in other.outputs]
    evaluation = Evaluation(card=card, outputs=outputs)
    if write:
        publish_skill(skill.path, load_manifest(skill.path), keep_from=skill.path, evaluation=evaluation)
    return evaluation


__all__ = ["BUILT_IN_BASELINES", "CLASSIFICATION_METRICS", "Baseline", "add_classification", "as_sample", "built_in_baseline", "condition_row", "eval_items",
           "evaluate_skill", "heldout_items", "score_condition"]
