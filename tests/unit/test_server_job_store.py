"""The fine-tuning job store: state survives reopening, status changes only from the statuses named, paging."""

from __future__ import annotations

from pathlib import Path

from skillstack.skills.server.job_store import JobStore, page


def _job(job_id: str, created_at: int, status: str = "queued") -> dict:
    return {"id": job_id, "created_at": created_at, "status": status}


def test_jobs_events_and_checkpoints_survive_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    store.insert(_job("ftjob-a", 1), {"method": "sft"})
    store.add_event("ftjob-a", "first")
    store.transition("ftjob-a", status="running", say=("second",))
    store.add_checkpoint("ftjob-a", 2, {"id": "ftckpt-a-2", "step_number": 2})
    store.close()
    reopened = JobStore(path)
    assert reopened.get("ftjob-a")["status"] == "running" and reopened.spec("ftjob-a") == {"method": "sft"}
    assert [e["message"] for e in reopened.events("ftjob-a")] == ["second", "first"]  # newest first
    assert reopened.with_status("running") == ["ftjob-a"]
    assert [c["step_number"] for c in reopened.checkpoints("ftjob-a")] == [2]


def test_a_transition_applies_only_from_the_statuses_named(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(_job("ftjob-a", 1, "cancelled"), {})
    assert not store.transition("ftjob-a", from_statuses=("running",), status="succeeded", say=("done",))
    assert store.get("ftjob-a")["status"] == "cancelled" and store.events("ftjob-a") == []
    assert not store.transition("ftjob-missing", status="running")


def test_jobs_list_newest_first_and_page_after_an_id(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for n in range(5):
        store.insert(_job(f"ftjob-{n}", n), {})
    jobs = store.jobs()
    assert [j["id"] for j in jobs] == [f"ftjob-{n}" for n in (4, 3, 2, 1, 0)]
    data, more = page(jobs, after="ftjob-3", limit=2)
    assert [j["id"] for j in data] == ["ftjob-2", "ftjob-1"] and more
    assert page(jobs, after="ftjob-unknown", limit=2) == ([], False)


def test_estimated_finish_is_kept_only_while_the_job_runs(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(_job("ftjob-a", 1, status="running"), {"method": "sft"})
    store.transition("ftjob-a", from_statuses=("running",), estimated_finish=500)
    assert store.get("ftjob-a")["estimated_finish"] == 500
    store.transition("ftjob-a", status="succeeded")
    assert store.get("ftjob-a")["estimated_finish"] is None


def test_estimated_finish_extrapolates_this_runs_pace_to_the_planned_steps() -> None:
    from skillstack.skills.server.job_worker import estimated_finish

    # resumed at step 50 at t=100; step 60 at t=120: 2 s a step, 40 steps to go
    assert estimated_finish((100.0, 50), 120.0, 60, 100) == 200
    assert estimated_finish((100.0, 50), 120.0, 50, 100) is None  # no step yet in this run
    assert estimated_finish((100.0, 0), 120.0, 10, None) is None  # a log without its planned steps
