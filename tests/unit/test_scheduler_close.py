"""The continuous batcher's worker stops on close() (and so at exit), never mid-step while torch tears down."""

from __future__ import annotations

from skillstack.skills.backends.scheduler import Scheduler


def test_close_stops_the_idle_worker_and_a_second_close_is_harmless():
    scheduler = Scheduler(engine=None)  # never stepped: the worker waits for arrivals
    assert scheduler._worker.is_alive()
    scheduler.close()
    assert not scheduler._worker.is_alive()
    scheduler.close()
