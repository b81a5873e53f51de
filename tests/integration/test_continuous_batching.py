"""Continuous batching on the real base model with real LoRA adapters: rows join and leave at each decode step,
each keeping its own adapter, sampler, stop strings, max_tokens and constraints."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from skillstack.settings import load_settings
from skillstack.skills.backends.requests import ChatRequest, Completion
from skillstack.skills.backends.scheduler import Scheduler
from skillstack.skills.runtime import get_runtime
from skillstack.skills.structured import parse_and_validate

from skills_fixtures import PROMPT, STATUS_SCHEMA, skills_home  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow

LONG = "Write a very long story about a dragon who guards a library."


@pytest.fixture(scope="module")
def runtime(skills_home: Path):
    return get_runtime(load_settings(skills_home))


@pytest.fixture
def scheduler(runtime) -> Scheduler:
    """A scheduler of its own (fresh counters) on the runtime's shared engine."""
    return Scheduler(runtime.engine, max_rows=8)


def _request(text: str = PROMPT, adapter: str | None = None, **options) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], adapter=adapter, **options)


def _submit(scheduler: Scheduler, runtime, request: ChatRequest) -> Future:
    if request.adapter is None:
        return scheduler.submit(request)
    skill = runtime.discovery().skills[request.adapter]
    return scheduler.submit(request, folder=skill.path, trained_on=skill.manifest.base_model)


def _alone(runtime, request: ChatRequest) -> Completion:
    """The request through transformers' own generate(), by itself: the reference."""
    engine = runtime.engine
    with engine.lock:
        if request.adapter is not None:
            skill = runtime.discovery().skills[request.adapter]
            engine.ensure_adapter(request.adapter, skill.path, skill.manifest.base_model)
        return engine.generate([request])[0]


def test_greedy_answers_in_one_batch_equal_each_request_alone_and_adapters_never_cross_talk(runtime, scheduler) -> None:
    # Four models, two resident adapters at most (the fixture's cap): tone-c joins once an adapter is free.
    names = [None, "tone-a", "tone-b", "tone-c", "tone-a", None]
    requests = [_request(adapter=name, max_tokens=8) for name in names]
    want = [_alone(runtime, request).text for request in requests]
    assert len(set(want)) == 4  # each model answers differently, so a crossed adapter would show
    mixed_before = runtime.engine.mixed_batches
    futures = [_submit(scheduler, runtime, request) for request in requests]
    assert [future.result(timeout=600).text for future in futures] == want
    assert scheduler.peak_rows >= 2 and runtime.engine.mixed_batches > mixed_before
    assert len(runtime.engine.resident_adapters) <= 2


def test_a_request_arriving_mid_generation_finishes_before_the_long_running_one(runtime, scheduler) -> None:
    long = scheduler.submit(_request(LONG, max_tokens=160))
    while scheduler.steps < 5:  # the long one is decoding
        time.sleep(0.01)
    short = scheduler.submit(_request("Say hi.", max_tokens=3))
    assert short.result(timeout=600).completion_tokens == 3
    assert not long.done()  # the short one joined the running batch instead of waiting for it
    assert long.result(timeout=600).completion_tokens == 160 and scheduler.peak_rows == 2


def test_stops_max_tokens_and_constraints_hold_per_row_of_one_batch(runtime, scheduler) -> None:
    full = _alone(runtime, _request(adapter="tone-b", max_tokens=8)).text
    stop = full[len(full) // 2:][:2]
    labels = ("billing", "shipping", "other")
    uncompilable = {"type": "object", "properties": {"a": {"$ref": "#/definitions/missing"}}}
    rows = {
        "stop": _request(adapter="tone-b", max_tokens=8, stop=(stop,)),
        "length": _request(LONG, max_tokens=3),
        "json": _request("The database is down. Report status.", adapter="tone-a", max_tokens=48,
                         json_schema=STATUS_SCHEMA, max_string=48),
        "label": _request("My parcel never arrived. Which team?", max_tokens=8, labels=labels),
        "broken": _request(max_tokens=8, json_schema=uncompilable),
    }
    with runtime.engine.lock:  # hold the engine so every row is waiting when the first step runs
        futures = {name: _submit(scheduler, runtime, request) for name, request in rows.items()}
    done = {name: future.result(timeout=600) for name, future in futures.items() if name != "broken"}
    with pytest.raises(ValueError, match="reference"):
        futures["broken"].result(timeout=600)
    assert done["stop"].text == full[: full.index(stop)] and done["stop"].finish_reason == "stop"
    assert done["length"].completion_tokens == 3 and done["length"].finish_reason == "length"
    assert parse_and_validate(done["json"].text, STATUS_SCHEMA)
    assert done["label"].text in labels
    assert scheduler.peak_rows >= 3


def test_a_stream_yields_the_whole_answer_and_a_seeded_sample_ignores_its_neighbours(runtime, scheduler) -> None:
    request = _request(adapter="tone-a", max_tokens=10)
    pieces = list(_stream(scheduler, runtime, request))
    assert "".join(p for p in pieces if isinstance(p, str)) == _alone(runtime, request).text == pieces[-1].text
    sampled = _request(max_tokens=8, temperature=0.9, top_p=0.95, seed=7)
    alone = scheduler.submit(sampled).result(timeout=600).text
    neighbours = [scheduler.submit(_request(LONG, max_tokens=12, temperature=1.0, seed=n)) for n in range(3)]
    assert scheduler.submit(sampled).result(timeout=600).text == alone
    assert len({f.result(timeout=600).text for f in neighbours}) > 1  # other seeds, other samples


def test_a_stream_closed_by_its_consumer_leaves_the_batch_at_the_next_step(runtime, scheduler) -> None:
    engine = runtime.engine
    before = engine.cancelled_requests
    stream = _stream(scheduler, runtime, _request(LONG, max_tokens=4000))
    received = [next(stream) for _ in range(3)]
    assert all(isinstance(piece, str) for piece in received)
    stream.close()
    deadline = time.time() + 120
    while engine.cancelled_requests == before and time.time() < deadline:
        time.sleep(0.05)
    assert engine.cancelled_requests == before + 1
    # The next request is served beside nothing: the abandoned one left the batch instead of decoding 4000 tokens.
    assert scheduler.submit(_request("Say hi.", max_tokens=2)).result(timeout=600).completion_tokens == 2
    assert all(row.request.max_tokens != 4000 for row in scheduler._running) and scheduler.steps < 100


def _stream(scheduler: Scheduler, runtime, request: ChatRequest):
    if request.adapter is None:
        return scheduler.stream(request)
    skill = runtime.discovery().skills[request.adapter]
    return scheduler.stream(request, folder=skill.path, trained_on=skill.manifest.base_model)


def test_many_threads_through_chat_models_get_their_own_skill_answers(runtime, skills_home: Path) -> None:
    from skills_fixtures import expected_output

    from skillstack.skills.runtime import chat_model

    settings = load_settings(skills_home)
    assert type(runtime.batcher).__name__ == "Scheduler"  # the default
    names = ["base", "tone-a", "tone-b"] * 3
    want = {name: expected_output(skills_home, name) for name in set(names)}
    got: list[tuple[str, str]] = []
    start = threading.Barrier(len(names))

    def ask(name: str) -> None:
        model = chat_model(settings, name, max_tokens=8)
        start.wait()
        got.append((name, model.invoke(PROMPT).content))

    threads = [threading.Thread(target=ask, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == sorted((name, want[name]) for name in names)
