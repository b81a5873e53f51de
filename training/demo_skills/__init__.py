"""The demo skills shipped in skills/bundled/: what each is, how its data is made and trained.

Holds the DemoSkill spec and its registry (filled through `register_demo_skill`). Each skill's
module (brand_voice, status_json, legal, classifier) holds its prompts, seeded generator and pure scorers;
build.py turns a spec into a shipped skill folder (`make demo-skills`); its eval card comes from
`skillstack eval`'s engine with the spec's graders (graders.py's demo_metric, one per metric) and
baselines, as a user would run it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import ConfigError
from skillstack.training.evaluate import Baseline
from . import brand_voice, classifier, legal, status_json
from .graders import grader_specs

# Modest LoRA on attention and the MLP's up/down projections: r=8 keeps each adapter under 8 MB in float32.
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"]


@dataclass(frozen=True, kw_only=True)
class DemoSkill:
    """One demo skill: its manifest fields, its dataset generator and its training numbers."""

    name: str = field(metadata={"help": "Skill (and bundled folder) name."})
    kind: str = field(metadata={"help": "tone | format | reasoning | classify."})
    description: str = field(metadata={"help": "Manifest description, shown to routers."})
    system_prompt: str = field(metadata={"help": "Short system prompt trained with and sent at inference."})
    routing_examples: list[str] = field(metadata={"help": "Sample tasks for the embedding router."})
    generate: Callable[..., tuple[list[dict], list[dict], dict]] = field(
        metadata={"help": "generate(seed, n_train=, n_heldout=[, corpus_csv=]) -> (train, heldout, provenance)."})
    score: Callable[[dict[str, Any], str, Any], dict[str, float]] = field(
        metadata={"help": "score(heldout item, output text, parsed JSON or None) -> metric values in [0, 1]."})
    metrics: tuple[str, ...] = field(metadata={"help": "The score keys the eval card reports, in column order."})
    primary: str = field(metadata={"help": "The metric the skill must beat every baseline on to be promoted."})
    baselines: list[Baseline] = field(metadata={"help": "Base-model conditions the eval card compares with."})
    uses_corpus: bool = field(default=False, metadata={"help": "generate() takes corpus_csv (real customer messages)."})
    output: str = field(default="text", metadata={"help": "text | json."})
    schema: dict[str, Any] | None = field(default=None, metadata={"help": "JSON Schema for json skills (shipped as schema.json)."})
    max_tokens: int = field(default=256, metadata={"help": "Tokens an answer may take in evaluation (a full answer fits)."})
    seed: int = field(default=7, metadata={"help": "Seed of the dataset generator and of training."})
    n_train: int = field(default=160, metadata={"help": "Training examples generated."})
    n_heldout: int = field(default=24, metadata={"help": "Held-out items shipped in the skill folder."})
    training: dict[str, Any] = field(default_factory=dict, metadata={"help": "SFTConfig fields for this skill."})
    labels: list[str] = field(default_factory=list, metadata={"help": "classify skills: the label set."})
    unseen: Callable[[], list[dict] | None] | None = field(default=None, metadata={
        "help": "The unseen evaluation set as held-out items (None where absent); measured beside the held-out set."})
    unseen_source: str = field(default="", metadata={"help": "Where the unseen set comes from, as the card names it."})

    def generate_data(self, corpus_csv: Path | None) -> tuple[list[dict], list[dict], dict]:
        """(train, heldout, provenance), deterministic for a given seed and corpus."""
        extra = {"corpus_csv": corpus_csv} if self.uses_corpus else {}
        return self.generate(self.seed, n_train=self.n_train, n_heldout=self.n_heldout, **extra)

    def graders(self) -> list[dict[str, Any]]:
        """The eval card's grader specs: one demo_metric grader per metric."""
        return grader_specs(self.name, self.metrics)


DEMO_SKILLS: dict[str, DemoSkill] = {}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def register_demo_skill(skill: DemoSkill) -> DemoSkill:
    """Add a demo skill, refusing a bad or duplicate name and a json skill without schema."""
    if not _NAME.match(skill.name) or skill.name in DEMO_SKILLS:
        raise ConfigError(f"demo skill name {skill.name!r} is invalid or already registered")
    if (skill.output == "json") != (skill.schema is not None):
        raise ConfigError(f"demo skill {skill.name!r}: a json skill needs a schema, a text skill none")
    if skill.primary not in skill.metrics:
        raise ConfigError(f"demo skill {skill.name!r}: primary metric {skill.primary!r} is not among its metrics")
    DEMO_SKILLS[skill.name] = skill
    return skill


def _lora(r: int = 8, **more: Any) -> dict[str, Any]:
    # num_threads stays 0 (auto): one thread per idle core, so a rebuild on a busy shared machine does not oversubscribe.
    return {"lora_r": r, "lora_alpha": 2 * r, "target_modules": TARGET_MODULES, "seed": 7, "save_every": 10} | more


register_demo_skill(DemoSkill(
    name=brand_voice.NAME, kind="tone", uses_corpus=True,
    description="Replies to bank customers in Lumen Bank's support voice (greeting, signature phrases, a dated next step, sign-off).",
    system_prompt=brand_voice.SYSTEM_PROMPT, routing_examples=brand_voice.ROUTING_EXAMPLES, generate=brand_voice.generate,
    score=brand_voice.score, metrics=brand_voice.METRICS, primary="compliant",
    baselines=[Baseline(label="base + full style guide", system_prompt=brand_voice.STYLE_GUIDE)],
    # 1,000 curated examples (the seeds' size for a brand voice), one epoch
    max_tokens=200, n_train=1000, n_heldout=40, training=_lora(n_epochs=1, batch_size=4, max_seq_len=256),
))
register_demo_skill(DemoSkill(
    name=status_json.NAME, kind="format", output="json", schema=status_json.SCHEMA,
    description="Turns an agent's free-text status report into the governance dashboard's JSON record.",
    system_prompt=status_json.SYSTEM_PROMPT, routing_examples=status_json.ROUTING_EXAMPLES, generate=status_json.generate,
    score=status_json.score, metrics=status_json.METRICS, primary="field_accuracy",
    baselines=[Baseline(label="base + schema and rules, constrained", system_prompt=status_json.RULES, constrained=True)],
    # 500 curated pairs (the seeds' size for a strict JSON format), one epoch
    max_tokens=160, n_train=500, n_heldout=40, training=_lora(n_epochs=1, batch_size=4, max_seq_len=400),
))
register_demo_skill(DemoSkill(
    name=legal.NAME, kind="reasoning",
    description="Writes an IRAC legal analysis of case facts grounded in provided articles, citing only the ones that apply.",
    system_prompt=legal.SYSTEM_PROMPT, routing_examples=legal.ROUTING_EXAMPLES, generate=legal.generate,
    score=legal.score, metrics=legal.METRICS, primary="citation_f1",
    baselines=[Baseline(label="base + IRAC prompt", system_prompt=legal.SYSTEM_PROMPT)],
    # 120 written records x 2 + 80 Northwind examples, one epoch (80 steps, 19 min on 2 idle cores); ~900-token
    # Northwind prompts: batches of 4 peak near 12 GB without gradient checkpointing (set it on a machine with less)
    max_tokens=256, n_train=320, n_heldout=12, training=_lora(n_epochs=1, batch_size=4, learning_rate_multiplier=1.5, max_seq_len=1024,
                                                          num_threads=2),
))

register_demo_skill(DemoSkill(
    name=classifier.NAME, kind="classify", uses_corpus=True, labels=classifier.LABELS,
    description="Labels a customer-support message with its support category (one of 11: account, order, refund, "
                "delivery, invoice, payment, ...), to route or triage the ticket.",
    system_prompt=classifier.SYSTEM_PROMPT, routing_examples=classifier.ROUTING_EXAMPLES, generate=classifier.generate,
    score=classifier.score, metrics=classifier.METRICS, primary="accuracy",
    baselines=[Baseline(label="base + label list, constrained", system_prompt=classifier.LABEL_LIST_PROMPT, constrained=True)],
    unseen=classifier.unseen_items, unseen_source=classifier.UNSEEN_SOURCE,
    max_tokens=8, n_train=770, n_heldout=110, training=_lora(n_epochs=1, batch_size=8, max_seq_len=128),
))

__all__ = ["DEMO_SKILLS", "DemoSkill", "register_demo_skill"]
