"""Evaluation of a skill against the base model (and optionally RAG) on held-out data with a grader.

Writes the eval card (eval_card.json + EVAL.md) into the skill folder and records the scores and
`promoted` (true only when the skill's mean score beats the base model's) in the manifest's provenance.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skillstack.errors import InputError
from skillstack.messages import content_text
from skillstack.settings import Settings
from .data.formats import PREFERENCE, prompt_and_answer
from .data.validate import validate_file
from .graders import Grader, build_grader

EVAL_CARD_VERSION = 1
EVAL_CARD_FILE = "eval_card.json"
EVAL_REPORT_FILE = "EVAL.md"
SYSTEMS = ("skill", "base", "rag")
_BATCH = 8
_SHOWN_OUTPUTS = 5


@dataclass(kw_only=True)
class EvalCard:
    """Scores of the skill and its baselines on one held-out file under one grader."""

    version: int = EVAL_CARD_VERSION
    skill: str
    data_file: str
    data_sha256: str
    grader: dict[str, Any]
    examples: int
    scores: dict[str, float]
    pass_rates: dict[str, float]
    promoted: bool
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """What goes into the manifest's provenance (no per-example results)."""
        return {"data_sha256": self.data_sha256, "grader": self.grader.get("name") or self.grader.get("type"),
                "examples": self.examples, "scores": self.scores, "pass_rates": self.pass_rates, "at": self.created_at}


def as_sample(text: str) -> dict[str, Any]:
    """A grader sample from a model's reply: output_json is the parsed reply when it is JSON."""
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        parsed = None
    return {"output_text": text, "output_json": parsed}


def eval_items(examples: list[dict[str, Any]], fmt: str) -> list[tuple[list[tuple[str, str]], dict[str, Any]]]:
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


def score(grader: Grader, samples: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[float]:
    return [grader.grade(sample, item) for sample, item in zip(samples, items)]


def _generate(model: Any, prompts: list[list[tuple[str, str]]], label: str, progress: bool) -> list[str]:
    from tqdm import tqdm

    replies: list[str] = []
    with tqdm(total=len(prompts), desc=f"eval {label}", unit="ex", disable=not progress) as bar:
        for start in range(0, len(prompts), _BATCH):
            chunk = prompts[start:start + _BATCH]
            for reply in model.batch(chunk, config={"max_concurrency": _BATCH}):
                replies.append(reply.content if isinstance(reply.content, str) else str(reply.content))
            bar.update(len(chunk))
    return replies


def _rag_replies(settings: Settings, retriever: Any, prompts: list[list[tuple[str, str]]], progress: bool) -> list[str]:
    from tqdm import tqdm

    from skillstack.retrieval.answer import answer_question
    from skillstack.skills.runtime import chat_model

    model = chat_model(settings, "base", temperature=0.0)
    replies = []
    for prompt in tqdm(prompts, desc="eval rag", unit="ex", disable=not progress):
        question = next((text for role, text in reversed(prompt) if role == "user"), "")
        replies.append(answer_question(question, retriever.search(question, k=5), model)["answer"])
    return replies


def card_report(card: EvalCard) -> str:
    """EVAL.md: the verdict, the scores per system and the first examples."""
    rows = "\n".join(f"| {name} | {card.scores[name]:.3f} | {card.pass_rates[name]:.0%} |" for name in card.scores)
    verdict = "**promoted**: the skill beats the base model" if card.promoted else "**not promoted**: the skill does not beat the base model"
    shown = "\n".join(f"- line {r['line']}: skill {r['scores'].get('skill', 0):.2f} vs base {r['scores'].get('base', 0):.2f}: "
                      f"{json.dumps(r['outputs'].get('skill', ''))[:160]}" for r in card.results[:_SHOWN_OUTPUTS])
    return (f"# Eval card: {card.skill}\n\n{verdict}.\n\n"
            f"Data: `{card.data_file}` ({card.examples} examples, sha256 {card.data_sha256[:12]}...), "
            f"grader `{card.grader.get('name') or card.grader.get('type')}` ({card.grader.get('type')}), {card.created_at}.\n\n"
            f"| system | mean score | pass rate |\n|---|---|---|\n{rows}\n\n## First examples\n\n{shown}\n")


def record_eval(folder: Path, card: dict[str, Any], report: str, *, summary: dict[str, Any], promoted: bool) -> None:
    """Write eval_card.json + EVAL.md atomically and put the summary and `promoted` into the manifest's provenance.

    Every eval card goes through here: `skillstack eval`'s grader cards and the demo skills' metric cards.
    """
    from skillstack.skills.manifest import load_manifest, write_manifest
    from .skill_writer import toml_safe

    for name, content in ((EVAL_CARD_FILE, json.dumps(card, indent=2, ensure_ascii=False) + "\n"), (EVAL_REPORT_FILE, report)):
        tmp = folder / f".{name}.tmp-{os.getpid()}"
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, folder / name)
    manifest = load_manifest(folder)
    manifest.provenance = toml_safe({**manifest.provenance, "eval": summary, "promoted": promoted})
    write_manifest(folder, manifest)


def record_card(folder: Path, card: EvalCard) -> None:
    """Record a grader eval card (see record_eval)."""
    record_eval(folder, card.to_dict(), card_report(card), summary=card.summary(), promoted=card.promoted)


def evaluate_skill(settings: Settings, skill_name: str, data_file: Path, grader_spec: dict[str, Any], *,
                   against: tuple[str, ...] = ("base",), limit: int | None = None, max_tokens: int | None = None,
                   progress: bool = True, write: bool = True) -> EvalCard:
    """Grade the skill and each system in `against` (base is always included) on the held-out file."""
    from skillstack.skills.runtime import chat_model, get_runtime

    unknown = set(against) - set(SYSTEMS[1:])
    if unknown:
        raise InputError(f"--against takes base and/or rag, got {', '.join(sorted(unknown))}")
    report = validate_file(data_file)
    # A held-out set may be small: the 10-example training minimum does not apply.
    blocking = [f for f in report.errors if f.code != "too_few_examples"]
    if blocking or not report.items or report.format == PREFERENCE:
        raise InputError(f"{data_file}: not usable held-out data ({report.format}, {len(blocking)} error(s), "
                         f"{len(report.items)} clean example(s)); use chat or reinforcement examples and check them "
                         "with `skillstack data validate`")
    skill = get_runtime(settings).skill(skill_name)
    grader = build_grader(grader_spec, settings=settings)
    retriever = None
    if "rag" in against:  # opened before any generation, so a missing store fails fast
        from skillstack.retrieval.retriever import Retriever

        retriever = Retriever(settings)
    examples = report.items[:limit] if limit else report.items
    pairs = eval_items(examples, report.format)
    prompts, items = [p for p, _ in pairs], [i for _, i in pairs]
    tokens = max_tokens or skill.manifest.generation.max_tokens

    outputs: dict[str, list[str]] = {"skill": _generate(chat_model(settings, skill_name, max_tokens=tokens, temperature=0.0),
                                                        prompts, skill_name, progress)}
    for system in ("base", *[s for s in against if s != "base"]):
        outputs[system] = (_rag_replies(settings, retriever, prompts, progress) if system == "rag" else
                           _generate(chat_model(settings, "base", max_tokens=tokens, temperature=0.0), prompts, "base", progress))
    per_system = {name: score(grader, [as_sample(text) for text in texts], items) for name, texts in outputs.items()}
    scores = {name: round(statistics.fmean(values), 4) for name, values in per_system.items()}
    pass_rates = {name: round(sum(map(grader.passed, values)) / len(values), 4) for name, values in per_system.items()}
    results = [{"line": line, "scores": {n: per_system[n][i] for n in per_system}, "outputs": {n: outputs[n][i] for n in outputs}}
               for i, line in enumerate(report.item_lines[:len(examples)])]
    card = EvalCard(skill=skill_name, data_file=str(data_file), grader=grader_spec, examples=len(examples),
                    data_sha256=hashlib.sha256(Path(data_file).read_bytes()).hexdigest(),
                    scores=scores, pass_rates=pass_rates, promoted=scores["skill"] > scores["base"], results=results)
    if write:
        record_card(skill.path, card)
    return card
