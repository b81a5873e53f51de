"""`skillstack jobs ...`: OpenAI fine-tuning jobs (create, status, events, list); a finished job becomes a skill."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from skillstack.errors import InputError
from .common import JSON_OPTION, emit, settings_from

app = typer.Typer(name="jobs", help="OpenAI fine-tuning jobs: files are validated locally before any upload.", no_args_is_help=True)


def _auto(value: str, cast: type, flag: str) -> Any:
    if value == "auto":
        return value
    try:
        return cast(value)
    except ValueError as exc:
        raise InputError(f"{flag} must be 'auto' or a {cast.__name__}, got {value!r}") from exc


def _event_line(event: dict[str, Any]) -> str:
    return f"[{event.get('level', 'info')}] {event.get('message', '')}"


def _job_line(job: dict[str, Any]) -> str:
    model = f" -> {job['fine_tuned_model']}" if job.get("fine_tuned_model") else ""
    error = f" ({job['error']['message']})" if job.get("error") else ""
    return f"{job['id']}  {job['status']}  {job['model']}{model}{error}"


def _finish(settings: Any, job: dict[str, Any], write_skill: bool, name: Optional[str], result: dict[str, Any]) -> None:
    if write_skill and job["status"] == "succeeded":
        from skillstack.training.openai_jobs import job_events, write_openai_skill

        result["skill"] = str(write_openai_skill(settings, job, name=name, events=job_events(settings, job["id"])))


@app.command("create")
def create(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Training JSONL (chat for supervised, preference for dpo, reinforcement)."),
    model: str = typer.Option(..., "--model", help="Base model to fine-tune."),
    method: str = typer.Option("supervised", "--method", help="supervised | dpo | reinforcement."),
    suffix: Optional[str] = typer.Option(None, "--suffix", help="Added to the fine-tuned model id; the skill's name."),
    validation_file: Optional[Path] = typer.Option(None, "--validation-file", help="Validation JSONL (validation loss)."),
    n_epochs: str = typer.Option("auto", "--n-epochs", help="Epochs, or auto."),
    batch_size: str = typer.Option("auto", "--batch-size", help="Batch size, or auto."),
    learning_rate_multiplier: str = typer.Option("auto", "--learning-rate-multiplier", help="Learning-rate multiplier, or auto."),
    beta: Optional[str] = typer.Option(None, "--beta", help="DPO beta, or auto."),
    grader: Optional[Path] = typer.Option(None, "--grader", help="Reinforcement: grader spec JSON file."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Job seed."),
    wait: bool = typer.Option(False, "--wait", help="Poll until the job ends, printing events."),
    poll_interval: float = typer.Option(10.0, "--poll-interval", help="Seconds between polls with --wait."),
    write_skill: bool = typer.Option(True, "--write-skill/--no-write-skill", help="With --wait: write the skill folder when it succeeds."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate, upload and start a fine-tuning job."""
    from skillstack.training.graders import load_grader_spec
    from skillstack.training.openai_jobs import JobConfig, create_job, wait_for_job

    settings = settings_from(ctx)
    config = JobConfig(model=model, method=method, suffix=suffix, seed=seed,
                       n_epochs=_auto(n_epochs, int, "--n-epochs"), batch_size=_auto(batch_size, int, "--batch-size"),
                       learning_rate_multiplier=_auto(learning_rate_multiplier, float, "--learning-rate-multiplier"),
                       beta=_auto(beta, float, "--beta") if beta is not None else None,
                       grader=load_grader_spec(grader) if grader else None)
    job = create_job(settings, file, config, validation_file=validation_file)
    if wait:
        def show(event: dict[str, Any]) -> None:
            if not as_json:
                typer.echo(_event_line(event))

        job = wait_for_job(settings, job["id"], poll_interval=poll_interval, on_event=show)
    result = {"job": job}
    _finish(settings, job, wait and write_skill, suffix, result)
    emit(result, as_json, lambda r: _job_line(r["job"]) + (f"\nskill written to {r['skill']}" if "skill" in r else ""))
    if job["status"] in ("failed", "cancelled"):
        raise typer.Exit(1)


@app.command("status")
def status(ctx: typer.Context, job_id: str = typer.Argument(..., help="Job id (ftjob-...)."),
           write_skill: bool = typer.Option(False, "--write-skill", help="If succeeded, write the skill folder."),
           name: Optional[str] = typer.Option(None, "--name", help="Skill name (default: the job's suffix)."),
           as_json: bool = JSON_OPTION) -> None:
    """Show a job's status (and fine-tuned model when done)."""
    from skillstack.training.openai_jobs import get_job

    settings = settings_from(ctx)
    job = get_job(settings, job_id)
    result = {"job": job}
    _finish(settings, job, write_skill, name, result)
    emit(result, as_json, lambda r: _job_line(r["job"]) + (f"\nskill written to {r['skill']}" if "skill" in r else ""))


@app.command("events")
def events(ctx: typer.Context, job_id: str = typer.Argument(..., help="Job id."), as_json: bool = JSON_OPTION) -> None:
    """A job's events, oldest first, with train/valid loss per step."""
    from skillstack.training.openai_jobs import job_events, loss_curve

    found = job_events(settings_from(ctx), job_id)
    emit({"events": found, "loss": loss_curve(found)}, as_json, lambda r: "\n".join(_event_line(e) for e in r["events"]))


@app.command("list")
def list_(ctx: typer.Context, limit: int = typer.Option(20, "--limit", help="Most jobs to show, newest first."),
          as_json: bool = JSON_OPTION) -> None:
    """Recent fine-tuning jobs."""
    from skillstack.training.openai_jobs import list_jobs

    jobs = list_jobs(settings_from(ctx), limit=limit)
    emit({"jobs": jobs}, as_json, lambda r: "\n".join(_job_line(j) for j in r["jobs"]) or "no jobs")
