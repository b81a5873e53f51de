"""The older request merger for the local engine (setting local_batching = "gather"), and LocalBackend.

Batcher: callers on any thread submit a request and wait on its future; one worker thread gathers what
arrives within 5 ms, groups it by sampling key, splits groups so their adapters fit the resident cap,
attaches adapters and runs each group as one mixed-adapter generate(); a request arriving meanwhile waits
for all of it (the default, scheduler.py, lets it join at the next decode step; this one stays as the load
test's baseline). LocalBackend is one skill's view of either, registered as backend "peft" (a LoRA adapter
on the local base model).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillstack.errors import InputError
from .local import LocalEngine
from .registry import register_backend
from .requests import Backend, ChatRequest, Completion

if TYPE_CHECKING:
    from skillstack.skills.backends.scheduler import Scheduler
    from skillstack.skills.registry import Skill
    from skillstack.skills.runtime import SkillRuntime

MAX_BATCH = 16
# How long the worker waits for companions after the first request of a batch.
GATHER_SECONDS = 0.005


@dataclass(kw_only=True)
class _Job:
    request: ChatRequest
    folder: Path | None
    trained_on: str
    future: Future


def _no_logprobs(request: ChatRequest) -> None:
    if request.logprobs:
        raise InputError("logprobs need the continuous batcher: set local_batching = \"continuous\" (the default)")


class Batcher:
    """Submit requests from many threads; they are answered in merged batches on one worker."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="skillstack-batcher", daemon=True)
        self._worker.start()

    def submit(self, request: ChatRequest, *, folder: Path | None = None, trained_on: str = "") -> Future:
        """Queue one request (folder/trained_on name its adapter's skill folder); the future yields a Completion."""
        _no_logprobs(request)
        future: Future = Future()
        self._queue.put(_Job(request=request, folder=folder, trained_on=trained_on, future=future))
        return future

    def complete(self, request: ChatRequest, *, folder: Path | None = None, trained_on: str = "") -> Completion:
        return self.submit(request, folder=folder, trained_on=trained_on).result()

    def stream(self, request: ChatRequest, *, folder: Path | None = None,
               trained_on: str = "") -> Iterator[str | Completion]:
        """A stream is not merged here: it runs alone on the engine (its own generate())."""
        _no_logprobs(request)
        return self.engine.stream(request, folder=folder, trained_on=trained_on)

    def _gather(self) -> list[_Job]:
        jobs = [self._queue.get()]
        while len(jobs) < MAX_BATCH:
            try:
                jobs.append(self._queue.get(timeout=GATHER_SECONDS))
            except queue.Empty:
                break
        return jobs

    def _run(self) -> None:
        while True:
            jobs = self._gather()
            groups: dict[tuple, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(job.request.sampling_key, []).append(job)
            for group in groups.values():
                for chunk in split_by_adapter_cap(group, self.engine.max_resident):
                    self._serve(chunk)

    def _serve(self, jobs: list[_Job]) -> None:
        with self.engine.lock:  # attach and generate atomically: nothing may evict in between
            self._serve_locked(jobs)

    def _serve_locked(self, jobs: list[_Job]) -> None:
        ready = []
        for job in jobs:
            try:
                if job.request.adapter is not None:
                    self.engine.ensure_adapter(job.request.adapter, job.folder, job.trained_on)
                ready.append(job)
            except Exception as exc:  # one bad skill fails its own request only
                job.future.set_exception(exc)
        if ready:
            self._generate(ready)

    def _generate(self, jobs: list[_Job]) -> None:
        """One generate() for jobs; if it fails, each is served alone, so a bad request fails only its own future."""
        try:
            results = self.engine.generate([job.request for job in jobs])
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].future.set_exception(exc)
                return
            for job in jobs:  # rare (a schema outlines cannot compile, say): find the culprit by serving each alone
                self._generate([job])
            return
        for job, result in zip(jobs, results, strict=True):
            job.future.set_result(result)


def split_by_adapter_cap(jobs: list[_Job], cap: int) -> list[list[_Job]]:
    """Consecutive chunks, each needing at most cap distinct adapters (so none is evicted mid-batch)."""
    chunks: list[list[_Job]] = []
    current: list[_Job] = []
    adapters: set[str] = set()
    for job in jobs:
        name = job.request.adapter
        if name is not None and name not in adapters and len(adapters) >= cap:
            chunks.append(current)
            current, adapters = [], set()
        current.append(job)
        if name is not None:
            adapters.add(name)
    if current:
        chunks.append(current)
    return chunks


@dataclass(kw_only=True)
class LocalBackend(Backend):
    """One skill's (or the bare base model's) view of the runtime's shared engine."""

    batcher: Batcher | Scheduler
    adapter: str | None = None
    folder: Path | None = None
    trained_on: str = ""

    def complete(self, request: ChatRequest) -> Completion:
        request.adapter = self.adapter
        return self.batcher.complete(request, folder=self.folder, trained_on=self.trained_on)

    def stream(self, request: ChatRequest) -> Iterator[str]:
        request.adapter = self.adapter
        return self.batcher.stream(request, folder=self.folder, trained_on=self.trained_on)


def local_backend(runtime: SkillRuntime, skill: Skill) -> LocalBackend:
    """A peft skill: its adapter on the runtime's shared local engine."""
    return LocalBackend(batcher=runtime.batcher, adapter=skill.name, folder=skill.path,
                        trained_on=skill.manifest.base_model)


register_backend(name="peft", build=local_backend, help="A LoRA adapter in the skill folder, on the local base model.")
