"""The eval card: what `skillstack eval` measured, as eval_card.json, EVAL.md and eval_outputs.jsonl.

Holds the card's format (one row per condition: the skill and each baseline, several metrics per
row, one per grader; a classify skill's rows add accuracy, macro-F1 and a confusion matrix, drawn as
confusion_matrix.png; an unseen set, when given, is a second card inside the first), its loading (unknown keys warn, a newer or older version is refused with what
to do), the EVAL.md report and the manifest summary. Not here: producing the numbers
(training/evaluate.py) or writing the skill folder (training/skill_writer.py's publish_skill).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skillstack.errors import SkillError

EVAL_CARD_VERSION = 2
EVAL_CARD_FILE = "eval_card.json"
EVAL_REPORT_FILE = "EVAL.md"
EVAL_OUTPUTS_FILE = "eval_outputs.jsonl"
CONFUSION_FILES = {"": "confusion_matrix.png", "unseen": "confusion_matrix_unseen.png"}  # per evaluated set
EVAL_FILES = (EVAL_CARD_FILE, EVAL_REPORT_FILE, EVAL_OUTPUTS_FILE, *CONFUSION_FILES.values())
SKILL_LABEL = "skill"


@dataclass(kw_only=True)
class Condition:
    """One row of the card: who answered (the skill, or the base model told `system_prompt`) and how it scored."""

    label: str = field(metadata={"help": "Row name: 'skill', 'base', 'rag' or a baseline's own label."})
    model: str = field(metadata={"help": "The skill's name, or 'base' (the base model without adapter)."})
    system_prompt: str | None = field(default=None, metadata={"help": "What the base model was told; None: the data's prompts."})
    constrained: bool = field(default=False, metadata={"help": "Decoded under the skill's JSON Schema."})
    retrieval: bool = field(default=False, metadata={"help": "Answered with retrieved chunks (RAG)."})
    metrics: dict[str, float] = field(default_factory=dict, metadata={"help": "Mean score per grader name."})
    pass_rates: dict[str, float] = field(default_factory=dict, metadata={"help": "Share of items each grader passes."})
    prompt_tokens_mean: float = field(default=0.0, metadata={"help": "Mean prompt tokens per request (0: unknown)."})
    errors: int = field(default=0, metadata={"help": "Answers that failed (e.g. their JSON Schema after retries)."})
    confusion: list[list[int]] = field(default_factory=list, metadata={
        "help": "classify skills: [reference label][answer label] counts, in the card's label order."})


@dataclass(kw_only=True)
class EvalCard:
    """The skill and its baselines on one held-out file, scored by one or more graders."""

    version: int = EVAL_CARD_VERSION
    skill: str
    data: str = field(metadata={"help": "The held-out file as given (a name inside the folder for shipped sets)."})
    data_sha256: str
    items: int
    graders: list[dict[str, Any]] = field(metadata={"help": "The grader specs; each grader's name is a metric."})
    primary_metric: str = field(metadata={"help": "The metric the skill must beat every base-model baseline on."})
    conditions: list[Condition]
    promoted: bool
    labels: list[str] = field(default_factory=list, metadata={"help": "classify skills: the label set (confusion matrix order)."})
    unseen: EvalCard | None = field(default=None, metadata={
        "help": "The same conditions on an unseen set (never tuned on); promotion then needs both sets."})
    evaluator: str = "skillstack eval (greedy decoding)"
    evaluated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scores(self) -> dict[str, float]:
        """The primary metric per condition label."""
        return {c.label: c.metrics[self.primary_metric] for c in self.conditions}

    def summary(self) -> dict[str, Any]:
        """What goes into the manifest's provenance beside `promoted` (the card holds the rest)."""
        return {"card": EVAL_CARD_FILE, "data_sha256": self.data_sha256, "items": self.items,
                "primary_metric": self.primary_metric, "scores": self.scores(), "evaluated_at": self.evaluated_at}


def promoted(conditions: list[Condition], primary: str) -> bool:
    """True when the skill beats every base-model baseline on the primary metric (a tie is no win; RAG is no gate)."""
    skill, *others = conditions
    gates = [c for c in others if not c.retrieval]
    return bool(gates) and all(skill.metrics[primary] > c.metrics[primary] for c in gates)


def _known(cls: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        warnings.warn(f"{where}: unknown key(s) {', '.join(unknown)} ignored (written by a newer skillstack?)", stacklevel=3)
    return {k: v for k, v in data.items() if k in names}


def card_from_dict(data: dict[str, Any], where: str) -> EvalCard:
    """An EvalCard from its JSON; SkillError naming `where` for another version or a missing field."""
    version = data.get("version")
    if version != EVAL_CARD_VERSION:
        raise SkillError(f"{where}: eval card version {version!r}, this skillstack reads version {EVAL_CARD_VERSION}; "
                         "re-run `skillstack eval` on the skill to write a current card")
    values = _known(EvalCard, data, where)
    try:
        values["conditions"] = [Condition(**_known(Condition, c, f"{where}: condition")) for c in values["conditions"]]
        if values.get("unseen") is not None:
            values["unseen"] = card_from_dict(values["unseen"], f"{where}: unseen")
        return EvalCard(**values)
    except (KeyError, TypeError) as exc:
        raise SkillError(f"{where}: not a complete eval card ({exc}); re-run `skillstack eval` on the skill") from exc


def load_card(folder: Path) -> EvalCard:
    """The eval card of a skill folder (folder/eval_card.json); InputError when it is no JSON object."""
    from .data.jsonl import read_json_object

    path = Path(folder) / EVAL_CARD_FILE
    return card_from_dict(read_json_object(path, "eval card"), str(path))


def _table(card: EvalCard) -> list[str]:
    """One row per condition, one column per metric (graders', then classification's; per-field ones left to the card)."""
    keys = [g["name"] for g in card.graders if not g["name"].startswith("field:")]
    keys += [k for k in card.conditions[0].metrics if k not in keys and not k.startswith("field:")]
    with_pass = any(c.pass_rates for c in card.conditions)
    pass_column = [f"{card.primary_metric} pass rate"] if with_pass else []
    lines = ["| condition | prompt tokens | " + " | ".join(keys + pass_column) + " |",
             "|---|---|" + "---|" * (len(keys) + len(pass_column))]
    for c in card.conditions:
        cells = [f"{c.metrics[k]:.3f}" for k in keys]
        cells += [f"{c.pass_rates.get(card.primary_metric, 0.0):.0%}"] if with_pass else []
        lines.append(f"| {c.label} | {c.prompt_tokens_mean} | " + " | ".join(cells) + " |")
    return lines


def card_report(card: EvalCard) -> str:
    """EVAL.md: the held-out table, the unseen one if any, the confusion matrices, the token saving."""
    lines = [f"# Eval card: {card.skill}", "",
             f"{card.items} held-out items (`{card.data}`), greedy decoding. Primary metric: "
             f"`{card.primary_metric}`; promoted: **{card.promoted}**.", "", *_table(card)]
    if card.unseen is not None:
        lines += ["", f"## Unseen set: {card.unseen.items} items (`{card.unseen.data}`), never trained or tuned on", "",
                  *_table(card.unseen)]
    if card.labels:
        lines += ["", f"Labels ({len(card.labels)}): {', '.join(card.labels)}. Confusion matrices: "
                      + ", ".join(f"![{name or 'held-out'}]({file})" for name, file in CONFUSION_FILES.items()
                                  if name == "" or card.unseen is not None)]
    skill_tokens = card.conditions[0].prompt_tokens_mean
    for c in card.conditions[1:]:
        if skill_tokens and c.prompt_tokens_mean:
            lines += ["", f"Prompt tokens: the skill uses {skill_tokens / c.prompt_tokens_mean:.2f}x the prompt of "
                          f"'{c.label}' ({c.prompt_tokens_mean - skill_tokens:+.0f} tokens saved per request)."]
    lines += ["", f"Per-item outputs: `{EVAL_OUTPUTS_FILE}`. Evaluator: {card.evaluator}."]
    return "\n".join(lines) + "\n"


@dataclass(kw_only=True)
class Evaluation:
    """A card and its per-item rows (eval_outputs.jsonl): what one evaluation adds to a skill folder."""

    card: EvalCard
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def write_into(self, folder: Path) -> None:
        """Write the three eval files into folder (a folder being assembled: publish_skill makes it atomic)."""
        (folder / EVAL_CARD_FILE).write_text(json.dumps(self.card.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        (folder / EVAL_REPORT_FILE).write_text(card_report(self.card), encoding="utf-8")
        (folder / EVAL_OUTPUTS_FILE).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self.outputs),
                                                encoding="utf-8")
        if self.card.labels:
            from .classification import plot_confusion

            for name, card in (("", self.card), ("unseen", self.card.unseen)):
                if card is not None:
                    plot_confusion(card.labels, {c.label: c.confusion for c in card.conditions}, folder / CONFUSION_FILES[name],
                                   title=f"{card.skill} on {card.data} ({card.items} items)")


__all__ = ["CONFUSION_FILES", "EVAL_CARD_FILE", "EVAL_CARD_VERSION", "EVAL_FILES", "EVAL_OUTPUTS_FILE", "EVAL_REPORT_FILE", "SKILL_LABEL",
           "Condition", "EvalCard", "Evaluation", "card_from_dict", "card_report", "load_card", "promoted"]
