"""Fine-tuning jobs' state in SQLite (HOME/fine_tuning/jobs.sqlite3): jobs, their events and checkpoints, surviving a restart.

Each row keeps the API object as JSON (what GET answers) beside the columns queries need. Status
changes go through `transition`, which only moves a job from the statuses named: a cancel racing
the worker's "succeeded" cannot be overwritten by it, nor the other way round. One connection,
guarded by a lock, serves the request threads and the worker thread (sqlite3 is used from several
threads with check_same_thread=False, never concurrently).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, status TEXT NOT NULL,
                                 job TEXT NOT NULL, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (job_id TEXT NOT NULL, step INTEGER NOT NULL, checkpoint TEXT NOT NULL,
                                        PRIMARY KEY (job_id, step));
"""


class JobStore:
    """The jobs database: `job` is the API object, `spec` the validated request the worker trains from."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert(self, job: dict[str, Any], spec: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?)",
                             (job["id"], job["created_at"], job["status"], json.dumps(job), json.dumps(spec)))

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT job FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def spec(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(self._db.execute("SELECT spec FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])

    def jobs(self) -> list[dict[str, Any]]:
        """Every job, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT job FROM jobs ORDER BY created_at DESC, rowid DESC").fetchall()
        return [json.loads(r[0]) for r in rows]

    def with_status(self, *statuses: str) -> list[str]:
        """Ids of the jobs in statuses, oldest first (the worker's queue order)."""
        marks = ",".join("?" * len(statuses))
        with self._lock:
            rows = self._db.execute(f"SELECT id FROM jobs WHERE status IN ({marks}) ORDER BY created_at, rowid",
                                    statuses).fetchall()
        return [r[0] for r in rows]

    def transition(self, job_id: str, *, from_statuses: tuple[str, ...] | None = None, say: tuple[str, ...] = (),
                   level: str = "info", **changes: Any) -> bool:
        """Apply changes to the job if its status is one of from_statuses (any, when None); True when applied.

        The messages in `say` become events in the same step, so a reader who sees the new status sees them too."""
        with self._lock:
            row = self._db.execute("SELECT job FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return False
            job = json.loads(row[0])
            if from_statuses is not None and job["status"] not in from_statuses:
                return False
            job.update(changes)
            if job["status"] != "running":  # as OpenAI's: an estimate only while the job runs
                job["estimated_finish"] = None
            self._db.execute("BEGIN")
            self._db.execute("UPDATE jobs SET status = ?, job = ? WHERE id = ?", (job["status"], json.dumps(job), job_id))
            for message in say:
                self._insert_event(job_id, message, level=level)
            self._db.execute("COMMIT")
            return True

    def add_event(self, job_id: str, message: str, *, level: str = "info", type: str = "message",
                  data: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._insert_event(job_id, message, level=level, type=type, data=data)

    def _insert_event(self, job_id: str, message: str, *, level: str, type: str = "message",
                      data: dict[str, Any] | None = None) -> None:
        event = {"id": f"ftevent-{uuid.uuid4().hex[:24]}", "object": "fine_tuning.job.event", "created_at": int(time.time()),
                 "level": level, "message": message, "type": type, "data": data or {}}
        self._db.execute("INSERT INTO events (job_id, event) VALUES (?, ?)", (job_id, json.dumps(event)))

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """The job's events, newest first (as OpenAI pages them)."""
        with self._lock:
            rows = self._db.execute("SELECT event FROM events WHERE job_id = ? ORDER BY seq DESC", (job_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def add_checkpoint(self, job_id: str, step: int, checkpoint: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", (job_id, step, json.dumps(checkpoint)))

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """The job's checkpoints, latest step first."""
        with self._lock:
            rows = self._db.execute("SELECT checkpoint FROM checkpoints WHERE job_id = ? ORDER BY step DESC",
                                    (job_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]


def page(items: list[dict[str, Any]], *, after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """OpenAI's cursor paging over items (already in answer order): those after the id `after`, at most limit."""
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    return items[:limit], len(items) > limit
