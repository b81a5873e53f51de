"""The fine-tuning and grader answers as pydantic models (OpenAI's object shapes), for /openapi.json and its checks.

The handlers build these objects as plain dicts (the job store keeps them as JSON); the models here
are the response schemas FastAPI validates them against and publishes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

Status = Literal["validating_files", "queued", "running", "paused", "succeeded", "failed", "cancelled"]


class JobError(BaseModel):
    code: str
    message: str
    param: str | None


class FineTuningJob(BaseModel):
    id: str
    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    created_at: int
    model: str
    organization_id: str
    status: Status
    training_file: str
    validation_file: str | None
    suffix: str | None
    user_provided_suffix: str | None
    seed: int
    metadata: dict[str, str] | None
    method: dict[str, Any]
    hyperparameters: dict[str, Any]
    fine_tuned_model: str | None
    finished_at: int | None
    error: JobError | None
    result_files: list[str]
    trained_tokens: int | None
    estimated_finish: int | None
    integrations: list[dict[str, Any]]


class JobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJob]
    has_more: bool


class JobEvent(BaseModel):
    id: str
    object: Literal["fine_tuning.job.event"] = "fine_tuning.job.event"
    created_at: int
    level: Literal["info", "warn", "error"]
    message: str
    type: Literal["message", "metrics"]
    data: dict[str, Any]


class EventList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobEvent]
    has_more: bool


class JobCheckpoint(BaseModel):
    id: str
    object: Literal["fine_tuning.job.checkpoint"] = "fine_tuning.job.checkpoint"
    created_at: int
    fine_tuning_job_id: str
    step_number: int
    fine_tuned_model_checkpoint: str
    metrics: dict[str, float | int]


class CheckpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobCheckpoint]
    has_more: bool
    first_id: str | None
    last_id: str | None


class GraderValidated(BaseModel):
    grader: dict[str, Any]


class GraderRunResult(BaseModel):
    reward: float
    sub_rewards: dict[str, float]
    metadata: dict[str, Any]
    model_grader_token_usage_per_model: dict[str, Any]
