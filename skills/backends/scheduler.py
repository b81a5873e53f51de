"""Iteration-level scheduling for the local engine (continuous batching, as vLLM and TGI serve).

One worker thread owns the running batch. Between two decode steps it lets waiting requests in (up to
max_rows, while their adapters fit the resident cap beside the adapters in use), prefills them together
and appends them to the batch's KV cache (batch_cache.py); then one forward pass decodes a token for
every row, each row with its own adapter (adapter_names=), sampler (temperature, top_p, seed), logits
processors (JSON, labels, grounding), stop strings, max_tokens and time limit. A finished row leaves at
once, and a stream whose consumer went away, or a request whose `cancel` event was set (a non-streamed
client that disconnected), is dropped at the next step. Not here: the model, adapters
and prompt encoding (local.py), the older gather-then-generate() batcher (batching.py).
"""

from __future__ import annotations

import atexit
import queue
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import RequestCancelled
from .batch_cache import BatchCache
from .local import BASE_ADAPTER, LocalEngine, row_constraints
from .logprobs import entries, step_logprobs
from .requests import ChatRequest, Completion, cut_at_stop, stream_with_stop


@dataclass(kw_only=True, eq=False)
class _Row:
    """One request from its submission to its answer."""

    request: ChatRequest
    folder: Path | None
    trained_on: str
    future: Future | None = None  # complete(): receives the Completion
    sink: queue.Queue | None = None  # stream(): text deltas, then the Completion or an exception
    processors: list[Any] = field(default_factory=list)
    warpers: list[Any] = field(default_factory=list)
    generator: Any = None  # the row's own torch.Generator when it samples: its seed decides, not its neighbours
    prompt: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)  # logprobs.Step per generated token, when the request asks
    sent: int = 0  # characters of the decoded answer already streamed
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)
    done: bool = False


class Scheduler:
    """Submit or stream requests from many threads; one worker decodes them all in one continuous batch."""

    def __init__(self, engine: LocalEngine, *, max_rows: int = 32) -> None:
        self.engine = engine
        self.max_rows = max(1, max_rows)
        self._arrivals: queue.Queue[_Row | None] = queue.Queue()
        self._waiting: list[_Row] = []
        self._running: list[_Row] = []
        self._batch = BatchCache()
        self.steps = 0  # decode steps run (observability, tests)
        self.peak_rows = 0  # the most rows one decode step served
        self._closing = threading.Event()
        self._worker = threading.Thread(target=self._run, name="skillstack-scheduler", daemon=True)
        self._worker.start()
        # A daemon thread still compacting the KV cache while the interpreter tears torch down aborts the
        # process ("terminate called without an active exception"): a CLI run that printed its answer died -6.
        atexit.register(self.close)

    def close(self) -> None:
        """Stop the worker once the step it is in ends (at exit; queued requests are not answered)."""
        self._closing.set()
        self._arrivals.put(None)
        self._worker.join(timeout=60)

    # -- callers' side ----------------------------------------------------------------------------------------

    def submit(self, request: ChatRequest, *, folder: Path | None = None, trained_on: str = "") -> Future:
        """Queue one request (folder/trained_on name its adapter's skill folder); the future yields a Completion."""
        future: Future = Future()
        try:
            self._arrivals.put(self._row(request, folder, trained_on, future=future))
        except Exception as exc:  # a constraint that cannot be built fails this request only
            future.set_exception(exc)
        return future

    def complete(self, request: ChatRequest, *, folder: Path | None = None, trained_on: str = "") -> Completion:
        return self.submit(request, folder=folder, trained_on=trained_on).result()

    def stream(self, request: ChatRequest, *, folder: Path | None = None,
               trained_on: str = "") -> Iterator[str | Completion]:
        """Text deltas as they are decoded (never a stop string), then the Completion; closing this iterator
        early (a client that went away) drops the request from the batch at the next step."""
        sink: queue.Queue = queue.Queue()
        row = self._row(request, folder, trained_on, sink=sink)
        self._arrivals.put(row)
        finished = False
        try:
            yield from stream_with_stop(_deltas(sink), request.stop)
            finished = True
        finally:
            if not finished:
                row.cancelled.set()
        yield _last(sink)

    def _row(self, request: ChatRequest, folder: Path | None, trained_on: str, **target: Any) -> _Row:
        import torch
        from transformers import TemperatureLogitsWarper, TopPLogitsWarper

        row = _Row(request=request, folder=folder, trained_on=trained_on,
                   processors=row_constraints(self.engine.tokenizer, request), **target)
        if request.cancel is not None:  # the caller's own event: setting it drops the row at the next step
            row.cancelled = request.cancel
        if request.temperature > 0:
            row.warpers = [TemperatureLogitsWarper(request.temperature), TopPLogitsWarper(request.top_p)]
            seed = request.seed if request.seed is not None else random.getrandbits(63)
            row.generator = torch.Generator().manual_seed(seed)
        return row

    # -- the worker -------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._take_arrivals(block=not self._running and not self._waiting)
            if self._closing.is_set():
                return
            try:
                self._step()
            except Exception as exc:  # a forward pass failed: its rows fail, the batch starts afresh
                for row in self._running:
                    self._fail(row, exc)
                self._running, self._batch = [], BatchCache()

    def _take_arrivals(self, *, block: bool) -> None:
        arrived = [self._arrivals.get()] if block else []
        while True:
            try:
                arrived.append(self._arrivals.get_nowait())
            except queue.Empty:
                break
        self._waiting += [row for row in arrived if row is not None]  # None: close()'s wake-up

    def _step(self) -> None:
        import torch

        with self.engine.lock, torch.inference_mode():  # between steps, others may use the engine
            self._drop_cancelled()
            admitted = self._admit()
            if admitted:
                self._prefill(admitted)
                self._compact()
            if self._running:
                self._decode()
                self._compact()

    def _drop_cancelled(self) -> None:
        for row in self._waiting + self._running:
            if row.cancelled.is_set() and not row.done:
                self._fail(row, RequestCancelled("the request was cancelled (its client went away); send it again"))
                self.engine.cancelled_requests += 1
        self._waiting = [row for row in self._waiting if not row.done]
        self._compact()

    def _admit(self) -> list[_Row]:
        """Waiting rows that fit now, oldest first; one whose adapter would evict an adapter in use waits."""
        in_use = {row.request.adapter for row in self._running if row.request.adapter is not None}
        admitted: list[_Row] = []
        for row in list(self._waiting):
            if len(self._running) + len(admitted) >= self.max_rows:
                break
            name = row.request.adapter
            if name is not None:
                if not self.engine.has_room_for(name, in_use):
                    continue
                try:
                    self.engine.ensure_adapter(name, row.folder, row.trained_on, in_use=in_use)
                except Exception as exc:  # one bad skill fails its own request only
                    self._waiting.remove(row)
                    self._fail(row, exc)
                    continue
                in_use.add(name)
            self._waiting.remove(row)
            admitted.append(row)
        return admitted

    def _forward(self, rows: list[_Row], **inputs: Any) -> Any:
        """One forward pass of rows through the model's own interface; only the last position's logits."""
        extra: dict[str, Any] = {}
        if self.engine.peft is not None:
            extra["adapter_names"] = [row.request.adapter or BASE_ADAPTER for row in rows]
            self.engine.mixed_batches += len(set(extra["adapter_names"])) > 1
        return self.engine.forward_model(**inputs, use_cache=True, logits_to_keep=1, **extra)

    def _prefill(self, rows: list[_Row]) -> None:
        """Run the new rows' prompts together (left-padded), append them to the batch, pick their first tokens."""
        from transformers import DynamicCache

        inputs = self.engine.encode([row.request for row in rows])
        mask = inputs["attention_mask"]
        for row, ids, real in zip(rows, inputs["input_ids"], mask, strict=True):
            row.prompt = ids[real.bool()].tolist()
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        try:
            output = self._forward(rows, input_ids=inputs["input_ids"], attention_mask=mask, position_ids=positions,
                                   past_key_values=DynamicCache())
        except Exception as exc:  # the running batch is untouched: only the newcomers fail
            for row in rows:
                self._fail(row, exc)
            return
        self._batch.join(output.past_key_values, mask)
        self._running.extend(rows)
        self._advance(rows, output.logits[:, -1])

    def _decode(self) -> None:
        import torch

        mask, positions = self._batch.step_inputs()
        tokens = torch.tensor([[row.generated[-1]] for row in self._running], device=mask.device)
        output = self._forward(self._running, input_ids=tokens, attention_mask=mask, position_ids=positions,
                               past_key_values=self._batch.cache)
        self._batch.stepped(mask)
        self.steps += 1
        self.peak_rows = max(self.peak_rows, len(self._running))
        self._advance(self._running, output.logits[:, -1])

    def _advance(self, rows: list[_Row], logits: Any) -> None:
        """Each row's next token from its logits row, then whether that row is finished."""
        logits = logits.float()
        greedy = logits.argmax(dim=-1).tolist()
        for index, row in enumerate(rows):
            try:
                plain = not row.processors and row.generator is None
                row.generated.append(greedy[index] if plain else self._pick(row, logits[index: index + 1]))
                if row.request.logprobs:
                    row.steps.append(step_logprobs(logits[index], row.generated[-1], row.request.top_logprobs))
                self._after_token(row)
            except Exception as exc:  # a constraint that breaks fails its own row only
                self._fail(row, exc)

    def _pick(self, row: _Row, scores: Any) -> int:
        import torch

        if row.processors:
            ids = torch.tensor([row.prompt + row.generated], device=scores.device)
            for processor in row.processors:
                scores = processor(ids, scores)
        if row.generator is None:
            return int(scores.argmax(dim=-1))
        for warper in row.warpers:
            scores = warper(None, scores)
        probabilities = torch.softmax(scores, dim=-1).cpu()
        return int(torch.multinomial(probabilities, 1, generator=row.generator))

    def _after_token(self, row: _Row) -> None:
        request, tokenizer = row.request, self.engine.tokenizer
        ended = row.generated[-1] == tokenizer.eos_token_id
        finished = (ended or len(row.generated) >= request.max_tokens
                    or (request.timeout is not None and time.monotonic() - row.started >= request.timeout))
        if request.stop or row.sink is not None:
            text = tokenizer.decode(row.generated[:-1] if ended else row.generated, skip_special_tokens=True)
            finished = finished or (bool(request.stop) and cut_at_stop(text, request.stop)[1])
            # A character split across tokens decodes as U+FFFD until its last byte arrives.
            if row.sink is not None and (finished or not text.endswith("\ufffd")) and len(text) > row.sent:
                row.sink.put(text[row.sent:])
                row.sent = len(text)
        if finished:
            row.done = True
            completion = self.engine.completion(row.generated, request, len(row.prompt))
            if request.logprobs:
                completion.logprobs = entries(tokenizer, row.generated, row.steps, completion.text)
            if row.sink is not None:
                row.sink.put(completion)
            else:
                row.future.set_result(completion)

    def _fail(self, row: _Row, exc: BaseException) -> None:
        row.done = True
        if row.sink is not None:
            row.sink.put(exc)
        elif not row.future.done():
            row.future.set_exception(exc)

    def _compact(self) -> None:
        """Finished rows leave the batch."""
        keep = [index for index, row in enumerate(self._running) if not row.done]
        if len(keep) != len(self._running):
            self._batch.keep(keep)
            self._running = [self._running[index] for index in keep]


def _deltas(sink: queue.Queue) -> Iterator[str]:
    """A stream's text deltas until its Completion, which is put back for _last; an exception is raised."""
    while True:
        item = sink.get()
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Completion):
            sink.put(item)
            return
        yield item


def _last(sink: queue.Queue) -> Completion:
    """The stream's Completion, skipping deltas a stop string made unneeded."""
    while True:
        item = sink.get()
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Completion):
            return item
