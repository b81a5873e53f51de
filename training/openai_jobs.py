"""OpenAI fine-tuning jobs through the `openai` SDK: validate, upload, create, poll, read events, and write
the finished model as a skill folder with backend "openai".

Files are validated locally before anything is uploaded. Local job records (home/jobs/<id>.json,
versioned) keep what the API does not: the dataset hashes and the skill metadata asked for at creation.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import BackendError, ConfigError, DatasetError, TrainingError
from skillstack.io import atomic_write_json
from skillstack.settings import Settings
from .data.formats import CHAT, PREFERENCE, REINFORCEMENT
from .data.jsonl import write_jsonl
from .data.validate import validate_file

METHODS = {"supervised": CHAT, "dpo": PREFERENCE, "reinforcement": REINFORCEMENT}
TERMINAL = ("succeeded", "failed", "cancelled")
JOB_RECORD_VERSION = 1


@dataclass(kw_only=True)
class JobConfig:
    """An OpenAI fine-tuning job: model, method and hyperparameters ("auto" lets OpenAI choose)."""

    model: str = field(metadata={"help": "Base model to fine-tune, e.g. gpt-4.1-mini-2025-04-14."})
    method: str = field(default="supervised", metadata={"help": "supervised | dpo | reinforcement."})
    suffix: str | None = field(default=None, metadata={"help": "Up to 64 characters added to the model id; also the skill's name."})
    n_epochs: int | str = field(default="auto", metadata={"help": "Passes over the training file, or auto."})
    batch_size: int | str = field(default="auto", metadata={"help": "Examples per step, or auto."})
    learning_rate_multiplier: float | str = field(default="auto", metadata={"help": "Scale of the base learning rate, or auto."})
    beta: float | str | None = field(default=None, metadata={"help": "DPO: strength of the preference penalty."})
    grader: dict[str, Any] | None = field(default=None, metadata={"help": "Reinforcement: the grader spec (OpenAI grader JSON)."})
    seed: int | None = field(default=None, metadata={"help": "Seed for reproducible jobs."})

    def method_payload(self) -> dict[str, Any]:
        """The `method` object of the create-job request."""
        if self.method not in METHODS:
            raise ConfigError(f"--method must be one of {', '.join(METHODS)}, got {self.method!r}")
        hyper: dict[str, Any] = {"n_epochs": self.n_epochs, "batch_size": self.batch_size,
                                 "learning_rate_multiplier": self.learning_rate_multiplier}
        if self.method == "dpo" and self.beta is not None:
            hyper["beta"] = self.beta
        body: dict[str, Any] = {"hyperparameters": hyper}
        if self.method == "reinforcement":
            if not self.grader:
                raise ConfigError("a reinforcement job needs a grader (--grader FILE)")
            body["grader"] = self.grader
        return {"type": self.method, self.method: body}


def openai_client(settings: Settings) -> Any:
    """An SDK client for OpenAI, or for settings.openai_base_url when set."""
    from openai import OpenAI

    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        raise ConfigError("OPENAI_API_KEY is not set; OpenAI fine-tuning jobs need an API key")
    return OpenAI(api_key=key, base_url=settings.openai_base_url or None, max_retries=2)


def _call(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    import openai

    try:
        return fn(*args, **kwargs)
    except openai.APIStatusError as exc:
        raise BackendError(f"OpenAI refused to {what}: {exc.status_code} {exc.message}") from exc
    except openai.APIConnectionError as exc:
        raise BackendError(f"could not reach OpenAI to {what} ({exc}); check the network or openai_base_url") from exc


def _records_dir(settings: Settings) -> Path:
    return settings.home / "jobs"


def _write_record(settings: Settings, job_id: str, record: dict[str, Any]) -> None:
    atomic_write_json(_records_dir(settings) / f"{job_id}.json", {"version": JOB_RECORD_VERSION, **record})


def job_record(settings: Settings, job_id: str) -> dict[str, Any]:
    """What was recorded locally when the job was created ({} for jobs created elsewhere)."""
    path = _records_dir(settings) / f"{Path(job_id).name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _check_file(path: Path, method: str, role: str) -> str:
    from .skill_writer import file_sha256

    report = validate_file(path, format=METHODS[method])
    if not report.ok:
        raise DatasetError(f"{path}: {len(report.errors)} problem(s) as {report.format} data for a {method} job, first at "
                           f"{report.errors[0]}; nothing was uploaded. Run `skillstack data validate {path}`")
    if report.format != METHODS[method]:
        raise DatasetError(f"{path}: the {role} file is {report.format} data, but a {method} job needs {METHODS[method]}")
    return file_sha256(path)


def create_job(settings: Settings, train_file: Path, config: JobConfig, *, validation_file: Path | None = None,
               client: Any = None) -> dict[str, Any]:
    """Validate the files, upload them and create the job; returns the job as a dict."""
    payload = config.method_payload()
    if config.grader:
        from .graders import build_grader

        build_grader(config.grader, settings=settings)  # a bad grader fails here, not after an upload
    hashes = {"train": _check_file(Path(train_file), config.method, "training")}
    if validation_file is not None:
        hashes["validation"] = _check_file(Path(validation_file), config.method, "validation")
    client = client or openai_client(settings)

    def upload(path: Path) -> str:
        with open(path, "rb") as handle:
            return _call(f"upload {path}", client.files.create, file=handle, purpose="fine-tune").id

    request: dict[str, Any] = {"model": config.model, "training_file": upload(Path(train_file)), "method": payload}
    if validation_file is not None:
        request["validation_file"] = upload(Path(validation_file))
    if config.suffix:
        request["suffix"] = config.suffix
    if config.seed is not None:
        request["seed"] = config.seed
    job = _call("create the fine-tuning job", client.fine_tuning.jobs.create, **request).model_dump()
    _write_record(settings, job["id"], {"job_id": job["id"], "train_file": str(train_file), "dataset_sha256": hashes["train"],
                                        "validation_sha256": hashes.get("validation"), "config": asdict(config)})
    return job


def get_job(settings: Settings, job_id: str, *, client: Any = None) -> dict[str, Any]:
    client = client or openai_client(settings)
    return _call(f"read job {job_id}", client.fine_tuning.jobs.retrieve, job_id).model_dump()


def list_jobs(settings: Settings, *, limit: int = 20, client: Any = None) -> list[dict[str, Any]]:
    client = client or openai_client(settings)
    page = _call("list fine-tuning jobs", client.fine_tuning.jobs.list, limit=limit)
    return [job.model_dump() for job in page.data]


def job_events(settings: Settings, job_id: str, *, client: Any = None) -> list[dict[str, Any]]:
    """Every event of the job, oldest first (the API pages them newest first)."""
    client = client or openai_client(settings)
    events = _call(f"read events of {job_id}", lambda: list(client.fine_tuning.jobs.list_events(job_id, limit=100)))
    return [event.model_dump() for event in sorted(events, key=lambda e: e.created_at)]


def loss_curve(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The metrics events as rows {step, train_loss, valid_loss, ...}, by step."""
    rows = [dict(event["data"]) for event in events if event.get("type") == "metrics" and event.get("data")]
    return sorted(rows, key=lambda row: row.get("step", 0))


def wait_for_job(settings: Settings, job_id: str, *, poll_interval: float = 10.0, timeout: float | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None, client: Any = None) -> dict[str, Any]:
    """Poll until the job ends; on_event sees each new event once, oldest first."""
    client = client or openai_client(settings)
    seen: set[str] = set()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = get_job(settings, job_id, client=client)
        for event in job_events(settings, job_id, client=client):
            if event["id"] not in seen:
                seen.add(event["id"])
                if on_event:
                    on_event(event)
        if job["status"] in TERMINAL:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise TrainingError(f"job {job_id} still {job['status']} after {timeout:g}s; "
                                f"check later with `skillstack jobs status {job_id}`")
        time.sleep(poll_interval)


def write_openai_skill(settings: Settings, job: dict[str, Any], *, name: str | None = None, description: str = "",
                       kind: str = "other", system_prompt: str = "", routing_examples: list[str] | None = None,
                       events: list[dict[str, Any]] | None = None, skills_dir: Path | None = None) -> Path:
    """Write a skill folder (backend "openai") for a succeeded job; returns the folder."""
    from skillstack.skills.manifest import SkillManifest, write_manifest
    from .skill_writer import toml_safe

    if job.get("status") != "succeeded" or not job.get("fine_tuned_model"):
        raise TrainingError(f"job {job.get('id')} is {job.get('status')}, not succeeded; no model to write a skill for")
    name = name or job.get("suffix") or job["id"].lower()
    record = job_record(settings, job["id"])
    curve = loss_curve(events or [])
    last = curve[-1] if curve else {}
    provenance = {
        "model_id": job["fine_tuned_model"], "job_id": job["id"], "dataset_sha256": record.get("dataset_sha256"),
        "validation_sha256": record.get("validation_sha256"),
        "training": {"method": (job.get("method") or {}).get("type"), "hyperparameters": job.get("hyperparameters"),
                     "seed": job.get("seed")},
        "metrics": {"train_loss": last.get("train_loss"), "valid_loss": last.get("valid_loss"),
                    "trained_tokens": job.get("trained_tokens"), "steps": last.get("step")},
        "promoted": False,
    }
    manifest = SkillManifest(name=name, description=description or f"OpenAI fine-tune {job['fine_tuned_model']}",
                             kind=kind, backend="openai", base_model=job["model"], model=job["fine_tuned_model"],
                             system_prompt=system_prompt, routing_examples=list(routing_examples or []),
                             provenance=toml_safe(provenance))
    folder = (skills_dir or settings.user_skills_dir) / name
    write_manifest(folder, manifest)
    if curve:
        write_jsonl(folder / "metrics.jsonl", curve)
    return folder
