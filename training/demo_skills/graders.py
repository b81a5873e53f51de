"""The `demo_metric` grader type: one metric of a demo skill's own pure scorer, as a grader of `skillstack eval`.

Registered through the `skillstack.graders` entry point (pyproject.toml), the way any grader plugin
is, so the demo skills' eval cards come from `skillstack eval` like a user's. A spec names the demo
skill and the metric: {"type": "demo_metric", "name": "compliant", "skill": "brand-voice"}
("metric" defaults to the name). Runs in-process: the scorers are the project's own code, not
spec-supplied source. Not here: the scorers (one module per skill).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skillstack.errors import ConfigError
from skillstack.training.graders.base import BuildContext, Grader, common_fields, field_of

TYPE = "demo_metric"


@dataclass(kw_only=True)
class DemoMetricGrader(Grader):
    score: Callable[[dict[str, Any], str, Any], dict[str, float]]
    metric: str

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        return float(self.score(item, sample["output_text"], sample.get("output_json"))[self.metric])


def build(spec: dict[str, Any], context: BuildContext) -> DemoMetricGrader:
    from . import DEMO_SKILLS

    skill = DEMO_SKILLS[field_of(spec, "skill", str, choices=list(DEMO_SKILLS))]
    metric = field_of(spec, "metric", str, default=spec.get("name"))
    if metric not in skill.metrics:
        raise ConfigError(f"{TYPE} grader {spec.get('name')!r}: metric {metric!r} is not one of {skill.name}'s "
                          f"metrics ({', '.join(skill.metrics)}); fix the spec's 'metric' or 'name'")
    return DemoMetricGrader(**common_fields(spec), score=skill.score, metric=metric)


def grader_specs(skill_name: str, metrics: tuple[str, ...]) -> list[dict[str, Any]]:
    """One demo_metric grader spec per metric, in card order."""
    return [{"type": TYPE, "name": metric, "skill": skill_name} for metric in metrics]


__all__ = ["TYPE", "DemoMetricGrader", "build", "grader_specs"]
