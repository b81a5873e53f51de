"""OpenAI's fine-tuning jobs API on the server: the request bodies, and creating, reading and cancelling jobs.

`create` checks the request as OpenAI does (model, files, suffix, method and hyperparameters; a 400
naming the parameter), then validates the files' contents while the job is `validating_files`: a
file in the wrong format fails the job with `error.param` naming it, as OpenAI fails it, instead of
refusing the request. A valid job is `queued` for the worker (job_worker.py), which trains it with
the registered training method. Job ids are checked against their pattern before any lookup.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from skillstack.settings import Settings
from .errors import APIError
from .files import FileStore
from .job_store import JobStore, page

ORGANIZATION = "skillstack"
# OpenAI's method types -> the registered training methods that run them.
LOCAL_METHODS = {"supervised": "sft", "dpo": "dpo", "reinforcement": "rft"}
ACTIVE = ("validating_files", "queued", "running", "paused")
_ID = re.compile(r"^ftjob-[0-9a-f]{24}$")
_STRICT = ConfigDict(extra="forbid")
Auto = Literal["auto"]


class Hyperparameters(BaseModel):
    model_config = _STRICT
    # The number first: a bad number's error (the first one reported) then says what is wrong with it.
    n_epochs: Annotated[int, Field(ge=1, le=50)] | Auto = "auto"
    batch_size: Annotated[int, Field(ge=1, le=256)] | Auto = "auto"
    learning_rate_multiplier: Annotated[float, Field(gt=0, le=10)] | Auto = "auto"


class DPOHyperparameters(Hyperparameters):
    beta: Annotated[float, Field(gt=0, le=2)] | Auto = "auto"


class Supervised(BaseModel):
    model_config = _STRICT
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)


class DPO(BaseModel):
    model_config = _STRICT
    hyperparameters: DPOHyperparameters = Field(default_factory=DPOHyperparameters)


class Reinforcement(BaseModel):
    model_config = _STRICT
    grader: dict[str, Any]
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)


class Method(BaseModel):
    model_config = _STRICT
    type: Literal["supervised", "dpo", "reinforcement"]
    supervised: Supervised | None = None
    dpo: DPO | None = None
    reinforcement: Reinforcement | None = None

    @model_validator(mode="after")
    def _one_type(self) -> Method:
        others = [name for name in LOCAL_METHODS if name != self.type and getattr(self, name) is not None]
        if others:
            raise ValueError(f"method type is '{self.type}' but '{others[0]}' settings were given")
        if self.type == "reinforcement" and self.reinforcement is None:
            raise ValueError("a reinforcement method needs 'reinforcement': {'grader': ...}")
        return self

    def settings(self) -> Supervised | DPO | Reinforcement:
        return getattr(self, self.type) or {"supervised": Supervised, "dpo": DPO}[self.type]()


class JobCreateRequest(BaseModel):
    """POST /v1/fine_tuning/jobs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"model": "base", "training_file": "file-0123456789abcdef01234567", "suffix": "brand-voice",
         "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}}}]})
    model: str = Field(min_length=1, max_length=256)
    training_file: str = Field(min_length=1, max_length=64)
    validation_file: str | None = Field(default=None, max_length=64)
    # Becomes part of the skill's name, so it keeps to a skill name's characters.
    suffix: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    seed: int | None = Field(default=None, ge=0, le=2_147_483_647)
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    method: Method | None = None
    hyperparameters: DPOHyperparameters | None = None  # deprecated by OpenAI in favour of method; still accepted

    @model_validator(mode="after")
    def _one_place_for_hyperparameters(self) -> JobCreateRequest:
        if self.method is not None and self.hyperparameters is not None:
            raise ValueError("give hyperparameters inside 'method' or at the top level (deprecated), not both")
        return self

    def resolved_method(self) -> Method:
        if self.method is not None:
            return self.method
        hyper = self.hyperparameters or DPOHyperparameters()
        if hyper.beta != "auto":
            raise APIError(400, "'beta' is a DPO hyperparameter; use method={'type': 'dpo', ...}.",
                           param="hyperparameters.beta", code="invalid_value")
        return Method(type="supervised", supervised=Supervised(hyperparameters=Hyperparameters(
            **hyper.model_dump(exclude={"beta"}))))


def _base_names(settings: Settings) -> set[str]:
    from skillstack.models import base_model_id
    from skillstack.skills.runtime import BASE

    base = base_model_id(settings)
    return {BASE, base, base.rsplit("/", 1)[-1]}


def _training_config(method: Method, seed: int) -> dict[str, Any]:
    """The registered method's config fields for this request ("auto" stays "auto": the trainer resolves it)."""
    chosen = method.settings()
    config: dict[str, Any] = {**chosen.hyperparameters.model_dump(), "seed": seed}
    if config.get("beta") == "auto":
        del config["beta"]
    if isinstance(chosen, Reinforcement):
        config["grader"] = chosen.grader
    return config


def fine_tuned_model(settings: Settings, suffix: str, job_id: str) -> str:
    """OpenAI's `ft:<base>:<org>:<suffix>:<job>` id."""
    from skillstack.models import base_model_id
    from skillstack.training.skill_writer import model_id

    return "ft:" + model_id(base_model_id(settings), f"{ORGANIZATION}:{suffix}:{job_id}")


def _file_path(files: FileStore, file_id: str | None, param: str) -> str | None:
    """The stored path of an uploaded fine-tune file; a 400 naming param when there is none."""
    if file_id is None:
        return None
    try:
        record = files.get(file_id)
    except APIError:
        raise APIError(400, f"invalid {param}: {file_id[:80]}", param=param, code="invalid_file") from None
    if record.purpose != "fine-tune":
        raise APIError(400, f"File {file_id} has purpose '{record.purpose}', not 'fine-tune'.", param=param,
                       code="invalid_file_purpose")
    return str(files.content(file_id))


def _check_contents(path: str, method: Method, param: str) -> dict[str, Any] | None:
    """The job's `error` when the file is not the method's format (OpenAI fails the job: the request was fine)."""
    from skillstack.training.data.validate import validate_file
    from skillstack.training.openai_jobs import METHODS

    report = validate_file(path, format=METHODS[method.type])
    if report.errors:
        first = report.errors[0]
        return {"code": f"invalid_{param}", "param": param,
                "message": f"The {param.replace('_', ' ')} is not valid {METHODS[method.type]} data for a {method.type} "
                           f"job: {len(report.errors)} problem(s); first at line {first.line}: {first.code}: {first.message}"}
    return None


def create(settings: Settings, store: JobStore, files: FileStore, body: JobCreateRequest) -> dict[str, Any]:
    """Record the job, validate its files, and queue it (or fail it, naming the bad file)."""
    if body.model not in _base_names(settings):
        raise APIError(400, f"Model {body.model} is not available for fine-tuning; use one of: "
                            f"{', '.join(sorted(_base_names(settings)))}.", param="model", code="model_not_available")
    method = body.resolved_method()
    if isinstance(method.settings(), Reinforcement):
        from skillstack.errors import ConfigError
        from skillstack.training.graders import build_grader

        try:
            build_grader(method.settings().grader, settings=settings)
        except ConfigError as exc:
            raise APIError(400, str(exc), param="method.reinforcement.grader", code="invalid_grader") from None
    training = _file_path(files, body.training_file, "training_file")
    validation = _file_path(files, body.validation_file, "validation_file")
    job_id = f"ftjob-{uuid.uuid4().hex[:24]}"
    suffix = body.suffix or "ft"
    seed = body.seed if body.seed is not None else 42
    job = {"id": job_id, "object": "fine_tuning.job", "created_at": int(time.time()), "model": body.model,
           "organization_id": ORGANIZATION, "status": "validating_files", "training_file": body.training_file,
           "validation_file": body.validation_file, "suffix": body.suffix, "user_provided_suffix": body.suffix,
           "seed": seed, "metadata": body.metadata, "method": method.model_dump(exclude_none=True),
           "hyperparameters": method.settings().hyperparameters.model_dump(), "fine_tuned_model": None,
           "finished_at": None, "error": None, "result_files": [], "trained_tokens": None, "estimated_finish": None,
           "integrations": []}
    spec = {"method": LOCAL_METHODS[method.type], "config": _training_config(method, seed), "training": training,
            "validation": validation, "skill_name": f"{suffix.lower()}-{job_id.removeprefix('ftjob-')[:12]}",
            "fine_tuned_model": fine_tuned_model(settings, suffix, job_id)}
    store.insert(job, spec)
    store.add_event(job_id, f"Validating training file: {body.training_file}")
    error = _check_contents(training, method, "training_file")
    if error is None and validation is not None:
        error = _check_contents(validation, method, "validation_file")
    if error is not None:
        store.transition(job_id, status="failed", error=error, finished_at=int(time.time()), say=(error["message"],),
                         level="error")
    else:
        store.transition(job_id, from_statuses=("validating_files",), status="queued",
                         say=("Files validated, moving job to queued state",))
    return retrieve(store, job_id)


def retrieve(store: JobStore, job_id: str) -> dict[str, Any]:
    job = store.get(job_id) if _ID.match(job_id) else None
    if job is None:
        raise APIError(404, f"Fine-tuning job {job_id[:80]} not found.", param="fine_tuning_job_id",
                       code="fine_tuning_job_not_found")
    return job


def list_jobs(store: JobStore, *, after: str | None, limit: int, metadata: dict[str, str]) -> dict[str, Any]:
    jobs = [j for j in store.jobs() if all((j.get("metadata") or {}).get(k) == v for k, v in metadata.items())]
    data, more = page(jobs, after=after, limit=limit)
    return {"object": "list", "data": data, "has_more": more}


def events(store: JobStore, job_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
    retrieve(store, job_id)
    data, more = page(store.events(job_id), after=after, limit=limit)
    return {"object": "list", "data": data, "has_more": more}


def checkpoints(store: JobStore, job_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
    retrieve(store, job_id)
    data, more = page(store.checkpoints(job_id), after=after, limit=limit)
    return {"object": "list", "data": data, "has_more": more, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None}


def cancel(store: JobStore, job_id: str) -> dict[str, Any]:
    """Cancel a job that has not ended (the worker stops its training); a 400 for one that has, as OpenAI answers."""
    job = retrieve(store, job_id)
    if not store.transition(job_id, from_statuses=ACTIVE, status="cancelled", finished_at=int(time.time()),
                            say=("Fine-tuning job cancelled",)):
        raise APIError(400, f"Job {job_id} has already {job['status']}; only a job that has not ended can be cancelled.",
                       param="fine_tuning_job_id", code="invalid_job_status")
    return retrieve(store, job_id)


def pause(store: JobStore, job_id: str) -> dict[str, Any]:
    """Stop a queued or running job's training, keeping its run folder; `resume` queues it again."""
    job = retrieve(store, job_id)
    if not store.transition(job_id, from_statuses=("queued", "running"), status="paused",
                            say=("Fine-tuning job paused; it resumes from its last checkpoint",)):
        raise APIError(400, f"Job {job_id} is {job['status']}; only a queued or running job can be paused.",
                       param="fine_tuning_job_id", code="invalid_job_status")
    return retrieve(store, job_id)


def resume(store: JobStore, job_id: str) -> dict[str, Any]:
    job = retrieve(store, job_id)
    if not store.transition(job_id, from_statuses=("paused",), status="queued", say=("Fine-tuning job resumed",)):
        raise APIError(400, f"Job {job_id} is {job['status']}; only a paused job can be resumed.",
                       param="fine_tuning_job_id", code="invalid_job_status")
    return retrieve(store, job_id)
