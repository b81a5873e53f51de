"""The score_model grader: a judge model rates the sample with a number in `range`; scaled to [0, 1].

An unparseable reply scores 0 (the judge failed to give a score, so nothing is credited).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from skillstack.errors import ConfigError
from .base import BuildContext, Grader, common_fields, field_of, register_grader
from .judges import ask, check_prompt, resolve_chat_model

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_score(reply: str, low: float, high: float) -> float:
    """The first number in the reply, clamped to [low, high] and scaled to [0, 1]; 0 when there is none."""
    match = _NUMBER.search(reply)
    if match is None:
        return 0.0
    value = min(high, max(low, float(match.group())))
    return (value - low) / (high - low)


@dataclass(kw_only=True)
class ScoreModel(Grader):
    model: str
    prompt: list[dict[str, str]]
    low: float
    high: float
    context: BuildContext = field(repr=False)
    sampling: dict[str, Any] = field(default_factory=dict)

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        judge = resolve_chat_model(self.model, self.context, self.sampling)
        instruction = f"Reply with only a number from {self.low:g} to {self.high:g}."
        return parse_score(ask(judge, self.prompt, instruction, sample, item), self.low, self.high)


def build(spec: dict[str, Any], context: BuildContext) -> ScoreModel:
    bounds = field_of(spec, "range", list[float], default=[0.0, 1.0])
    if len(bounds) != 2 or bounds[0] >= bounds[1]:
        raise ConfigError(f"score_model {spec.get('name')!r}: 'range' must be [low, high] with low < high")
    return ScoreModel(**common_fields(spec), model=field_of(spec, "model", str), prompt=check_prompt(spec),
                      low=bounds[0], high=bounds[1], context=context,
                      sampling=field_of(spec, "sampling_params", dict, default={}))


register_grader("score_model", build)
