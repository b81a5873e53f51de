"""The label_model grader: a judge model picks one of `labels`; 1 when it is among `passing_labels`, else 0."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from skillstack.errors import ConfigError
from .base import BuildContext, Grader, common_fields, field_of, register_grader
from .judges import ask, check_prompt, resolve_chat_model


def parse_label(reply: str, labels: list[str]) -> str | None:
    """The label the reply gives: the whole reply, else the first label named as a word in it."""
    text = reply.strip().strip(".\"'`").casefold()
    for label in labels:
        if text == label.casefold():
            return label
    found = [(m.start(), label) for label in labels
             if (m := re.search(rf"(?<!\w){re.escape(label.casefold())}(?!\w)", text))]
    return min(found)[1] if found else None


@dataclass(kw_only=True)
class LabelModel(Grader):
    model: str
    prompt: list[dict[str, str]]
    labels: list[str]
    passing_labels: list[str]
    context: BuildContext = field(repr=False)
    sampling: dict[str, Any] = field(default_factory=dict)

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        judge = resolve_chat_model(self.model, self.context, self.sampling)
        instruction = f"Reply with exactly one label from: {', '.join(self.labels)}."
        return 1.0 if parse_label(ask(judge, self.prompt, instruction, sample, item), self.labels) in self.passing_labels else 0.0


def build(spec: dict[str, Any], context: BuildContext) -> LabelModel:
    labels = field_of(spec, "labels", list)
    passing = field_of(spec, "passing_labels", list)
    if not labels or not all(isinstance(label, str) and label for label in labels):
        raise ConfigError(f"label_model {spec.get('name')!r}: 'labels' must be a non-empty list of strings")
    if not passing or not set(passing) <= set(labels):
        raise ConfigError(f"label_model {spec.get('name')!r}: 'passing_labels' must be a non-empty subset of 'labels'")
    return LabelModel(**common_fields(spec), model=field_of(spec, "model", str), prompt=check_prompt(spec),
                      labels=labels, passing_labels=passing, context=context,
                      sampling=field_of(spec, "sampling_params", dict, default={}))


register_grader("label_model", build)
