"""OpenAI's grader endpoints on the server: validate a grader, or run one on a sample, with training/graders.

`POST /v1/fine_tuning/alpha/graders/validate` builds the grader from its OpenAI JSON (a 400 naming
`grader` when it is wrong); `.../run` grades `model_sample` (its text, and its JSON when it parses)
against `item`, as a reinforcement job's grader scores each sampled completion (training/rft.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from skillstack.errors import ConfigError, DatasetError
from skillstack.settings import Settings
from .errors import APIError


class GraderValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"grader": {"type": "string_check", "name": "exact", "operation": "eq", "input": "{{sample.output_text}}",
                    "reference": "{{item.answer}}"}}]})
    grader: dict[str, Any]


class GraderRunRequest(GraderValidateRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"grader": {"type": "string_check", "name": "exact", "operation": "eq", "input": "{{sample.output_text}}",
                    "reference": "{{item.answer}}"}, "model_sample": "category: refund", "item": {"answer": "category: refund"}}]})
    model_sample: str = Field(max_length=1_000_000)
    item: dict[str, Any] = Field(default_factory=dict)


def _build(settings: Settings, spec: dict[str, Any]) -> Any:
    from skillstack.training.graders import build_grader

    try:
        return build_grader(spec, settings=settings)
    except ConfigError as exc:
        raise APIError(400, f"Invalid grader: {exc}", param="grader", code="invalid_grader") from None


def validate(settings: Settings, body: GraderValidateRequest) -> dict[str, Any]:
    _build(settings, body.grader)
    return {"grader": body.grader}


def run(settings: Settings, body: GraderRunRequest) -> dict[str, Any]:
    """The reward, each sub-grader's score for a multi grader, and OpenAI's metadata block."""
    grader = _build(settings, body.grader)
    try:
        output_json = json.loads(body.model_sample)
    except json.JSONDecodeError:
        output_json = None
    sample = {"output_text": body.model_sample, "output_json": output_json}
    started = time.perf_counter()
    try:
        reward = float(grader.grade(sample, body.item))
        sub_rewards = grader.scores(sample, body.item) if hasattr(grader, "scores") else {}
    except DatasetError as exc:  # a template naming a field the item lacks
        raise APIError(400, str(exc), param="item", code="invalid_item") from None
    return {"reward": reward, "sub_rewards": sub_rewards, "model_grader_token_usage_per_model": {},
            "metadata": {"name": grader.name, "type": body.grader.get("type"), "errors": {}, "scores": sub_rewards,
                         "execution_time": time.perf_counter() - started, "sampled_model_name": None,
                         "token_usage": None, "passed": grader.passed(reward)}}
