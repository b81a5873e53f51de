"""The server's fine-tuning worker: queued jobs trained one at a time, each in a child process, watched from a thread.

The child runs the registered training method exactly as `skillstack train` does (TrainJob through
get_method(...).train), into a staging folder under HOME/fine_tuning/<id>. A child process, not a thread,
because a cancel must stop training at once and a training run must not hold the server's GIL.
The thread turns the run's metrics.jsonl and checkpoint folders (training/checkpoints.py, found by
the job's unique skill name) into events and checkpoints, and on success publishes the skill into
HOME/skills with its `ft:` id, writes the results CSV, and refreshes skill discovery so chat and
/v1/models see it without a restart.

Restart: a job still `running` in the database when the server starts had its child killed with the
server; it is queued again, and the same TrainJob finds its run folder (same fingerprint) and resumes
from the last checkpoint there.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from skillstack.settings import Settings
from .files import FileStore
from .job_store import JobStore

log = logging.getLogger("skillstack.server")
_POLL_S = 0.5
# metrics.jsonl keys -> the keys of OpenAI's metrics events and checkpoint metrics.
_METRICS = {"train_loss": "train_loss", "token_accuracy": "train_mean_token_accuracy", "val_loss": "valid_loss",
            "val_token_accuracy": "valid_mean_token_accuracy"}
_CSV_COLUMNS = {"step": "step", "train_loss": "train_loss", "train_accuracy": "token_accuracy",
                "valid_loss": "val_loss", "valid_mean_token_accuracy": "val_token_accuracy"}


def _train_in_child(settings: Settings, method: str, job: Any, error_path: Path) -> None:
    """The child process: train, or leave the reason in error_path and exit 1."""
    from skillstack.io import atomic_write_json
    from skillstack.training.methods import get_method

    try:
        get_method(method).train(settings, job)
    except Exception as exc:
        atomic_write_json(error_path, {"message": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None


class JobWorker:
    """Runs queued jobs in order; `stop` ends the current child and leaves its job `running` to resume."""

    def __init__(self, settings: Settings, store: JobStore, files: FileStore) -> None:
        self.settings, self.store, self.files = settings, store, files
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._child: Any = None
        self._child_job: str | None = None

    def start(self) -> None:
        for job_id in self.store.with_status("validating_files"):  # the server stopped inside a create request
            self.store.transition(job_id, from_statuses=("validating_files",), status="failed",
                                  finished_at=int(time.time()), level="error",
                                  error={"code": "server_stopped", "param": None,
                                         "message": "The server stopped while this job's files were validated; "
                                                    "create the job again."},
                                  say=("The server stopped while this job's files were validated",))
        for job_id in self.store.with_status("running"):
            self.store.transition(job_id, from_statuses=("running",), status="queued",
                                  say=("The server restarted while this job was running; it resumes from its last "
                                       "checkpoint.",))
        self._thread = threading.Thread(target=self._loop, name="fine-tuning-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._end_child()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def notify(self) -> None:
        """A job was queued or cancelled: look again now."""
        self._wake.set()

    def stopped(self, job_id: str) -> None:
        """The job was cancelled or paused: its training ends now."""
        if self._child_job == job_id:
            self._end_child()
        self.notify()

    def _end_child(self) -> None:
        child = self._child
        if child is not None and child.is_alive():
            child.terminate()
            child.join(timeout=10)
            if child.is_alive():
                child.kill()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            queued = self.store.with_status("queued")
            if not queued:
                self._wake.wait(timeout=5)
                self._wake.clear()
                continue
            try:
                self._run(queued[0])
            except Exception as exc:  # a bug in one job must not stop the queue
                log.error("fine-tuning job %s failed in the worker", queued[0], exc_info=exc)
                self._fail(queued[0], f"internal error in the fine-tuning worker: {type(exc).__name__}")

    def _run(self, job_id: str) -> None:
        import multiprocessing

        from skillstack.training.methods import TrainJob, get_method
        from skillstack.training.skill_writer import SkillSpec

        if not self.store.transition(job_id, from_statuses=("queued",), status="running", say=("Fine-tuning job started",)):
            return
        spec = self.store.spec(job_id)
        folder = self.settings.home / "fine_tuning" / job_id
        error_path = folder / "error.json"
        error_path.unlink(missing_ok=True)
        train_job = TrainJob(train_file=Path(spec["training"]), validation_file=spec["validation"],
                             output_dir=folder / "skill", config=get_method(spec["method"]).config_cls(**spec["config"]),
                             skill=SkillSpec(suffix=spec["skill_name"], description=f"Fine-tuned by job {job_id}"),
                             progress=False)
        # spawn: a fork of a threaded server could inherit a held lock; the child imports what it needs.
        child = multiprocessing.get_context("spawn").Process(
            target=_train_in_child, args=(self.settings, spec["method"], train_job, error_path), daemon=True)
        self._child, self._child_job = child, job_id
        child.start()
        seen = self._reported_steps(job_id)
        pace = (time.time(), max(seen, default=0))  # this run's start: the pace of estimated_finish
        while child.is_alive():
            child.join(timeout=_POLL_S)
            self._report(job_id, spec, self._run_folder(spec), seen, pace)
        self._child, self._child_job = None, None
        if self._stopping.is_set():
            return  # the server is stopping: the job stays `running` and resumes on the next start
        status = self.store.get(job_id)["status"]
        if status == "cancelled":
            self._discard(spec, folder)
        if status in ("cancelled", "paused"):
            return  # a paused job keeps its run folder: resumed, the same TrainJob continues from its checkpoint
        if child.exitcode != 0:
            message = (json.loads(error_path.read_text(encoding="utf-8"))["message"] if error_path.is_file()
                       else f"the training process ended with exit code {child.exitcode}")
            self._fail(job_id, message)
            return
        self._report(job_id, spec, folder / "skill", seen, pace)
        self._succeed(job_id, spec, folder / "skill")

    def _discard(self, spec: dict[str, Any], folder: Path) -> None:
        """A cancelled job's staging folder and run folder (its checkpoints) are of no further use."""
        for path in (folder, self._run_folder(spec)):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)

    def _run_folder(self, spec: dict[str, Any]) -> Path | None:
        """The job's run folder (checkpoints.py names it `<skill name>-<fingerprint>`; the skill name is the job's own)."""
        found = sorted((self.settings.home / "runs").glob(f"{spec['skill_name']}-*"))
        return found[0] if found else None

    def _reported_steps(self, job_id: str) -> set[int]:
        return {e["data"]["step"] for e in self.store.events(job_id) if e["type"] == "metrics"}

    def _report(self, job_id: str, spec: dict[str, Any], folder: Path | None, seen: set[int],
                pace: tuple[float, int]) -> None:
        """New metrics rows as `metrics` events, and the job's estimated_finish; new checkpoint folders as checkpoints."""
        from skillstack.training.checkpoints import CHECKPOINT_PATTERN
        from skillstack.training.metrics import read_metrics

        if folder is None:
            return
        rows = {row["step"]: row for row in read_metrics(folder / "metrics.jsonl") if "step" in row}
        for step in sorted(set(rows) - seen):
            data = {"step": step, **{ours: rows[step][theirs] for theirs, ours in _METRICS.items() if theirs in rows[step]}}
            self.store.add_event(job_id, f"Step {step}: training loss={data.get('train_loss', float('nan')):.4f}",
                                 type="metrics", data=data)
            seen.add(step)
        if rows:
            latest = rows[max(rows)]
            finish = estimated_finish(pace, time.time(), latest["step"], latest.get("total_steps"))
            self.store.transition(job_id, from_statuses=("running",), estimated_finish=finish)
        for path in folder.glob("checkpoint-*"):
            match = CHECKPOINT_PATTERN.match(path.name)
            if match and int(match.group(1)) in rows:
                self._checkpoint(job_id, spec, rows[int(match.group(1))])

    def _checkpoint(self, job_id: str, spec: dict[str, Any], row: dict[str, Any]) -> None:
        step = row["step"]
        self.store.add_checkpoint(job_id, step, {
            "id": f"ftckpt-{job_id.removeprefix('ftjob-')}-{step}", "object": "fine_tuning.job.checkpoint",
            "created_at": int(time.time()), "fine_tuning_job_id": job_id, "step_number": step,
            "fine_tuned_model_checkpoint": f"{spec['fine_tuned_model']}:ckpt-step-{step}",
            "metrics": {"step": step, **{ours: row[theirs] for theirs, ours in _METRICS.items() if theirs in row}}})

    def _fail(self, job_id: str, message: str) -> None:
        error = {"code": "training_failed", "message": message, "param": None}
        self.store.transition(job_id, from_statuses=("running", "queued"), status="failed", error=error,
                              finished_at=int(time.time()), say=(f"Fine-tuning job failed: {message}",), level="error")

    def _succeed(self, job_id: str, spec: dict[str, Any], staging: Path) -> None:
        """Publish the skill under its `ft:` id, store the results CSV, then mark the job succeeded."""
        from skillstack.skills.manifest import load_manifest
        from skillstack.skills.runtime import get_runtime
        from skillstack.training.metrics import read_metrics
        from skillstack.training.skill_writer import publish_skill

        rows = read_metrics(staging / "metrics.jsonl")
        if rows:
            self._checkpoint(job_id, spec, rows[-1])
        manifest = load_manifest(staging)
        manifest.provenance = {**manifest.provenance, "model_id": spec["fine_tuned_model"], "job_id": job_id}
        if self.store.get(job_id)["status"] != "running":
            return  # cancelled or paused while the child finished: nothing is published yet
        publish_skill(self.settings.user_skills_dir / spec["skill_name"], manifest, keep_from=staging)
        shutil.rmtree(staging.parent, ignore_errors=True)
        get_runtime(self.settings).discovery(refresh=True)
        results = self.files.add(f"{job_id}-results.csv", _results_csv(rows), "fine-tune-results")
        tokens = [row["tokens"] for row in rows if isinstance(row.get("tokens"), int)]
        self.store.transition(job_id, from_statuses=("running",), status="succeeded",
                              fine_tuned_model=spec["fine_tuned_model"], finished_at=int(time.time()),
                              result_files=[results.id], trained_tokens=tokens[-1] if tokens else None,
                              say=(f"New fine-tuned model created: {spec['fine_tuned_model']}",
                                   "The job has successfully completed"))


def estimated_finish(pace: tuple[float, int], now: float, step: int, total_steps: int | None) -> int | None:
    """When the run ends at this run's pace so far (pace: when it started and at which step); None if unknown."""
    started, first_step = pace
    if not total_steps or step <= first_step:
        return None
    return int(now + (now - started) / (step - first_step) * max(total_steps - step, 0))


def _results_csv(rows: list[dict[str, Any]]) -> bytes:
    """OpenAI's results file: one line per step, empty where a step measured nothing (validation)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.get(key, "") for key in _CSV_COLUMNS.values()])
    return out.getvalue().encode("utf-8")
