"""The server's bounds (ServerOptions, the flags of `skillstack serve`) and the count of chat requests in flight.

A chat request holds a Slot from the moment it is admitted until its answer is sent (a stream: until
its events end, however they end), so past `max_pending` new requests get a 429 instead of queueing
behind the engine.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from .errors import APIError


@dataclass(kw_only=True, frozen=True)
class ServerOptions:
    auth: bool = field(default=True, metadata={"help": "Require an API key on every route but /health."})
    cors_origins: tuple[str, ...] = field(default=(), metadata={"help": "Origins allowed by CORS; none = CORS off."})
    max_body_bytes: int = field(default=4 * 1024 * 1024, metadata={"help": "Largest request body accepted (413 above)."})
    max_messages: int = field(default=256, metadata={"help": "Most messages in one chat request."})
    max_characters: int = field(default=200_000, metadata={"help": "Most characters over all messages of one request."})
    max_completion_tokens: int | None = field(default=None, metadata={
        "help": "Most tokens one answer may ask for; none = what the model's context leaves after the prompt."})
    max_pending: int = field(default=64, metadata={"help": "Chat requests in flight at once; more get a 429."})
    max_file_bytes: int = field(default=512 * 1024 * 1024, metadata={"help": "Largest upload to /v1/files (OpenAI's: 512 MB)."})


class Slot:
    """One admitted request's place; released once, whichever way the request ends."""

    def __init__(self, slots: threading.BoundedSemaphore) -> None:
        self._slots, self._held, self._lock = slots, True, threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._slots.release()

    def held_by(self, events: AsyncIterator[str]) -> AsyncIterator[str]:
        """events, releasing this slot when they end; also when the response is dropped before they start
        (a client gone before the first event: an unstarted generator never runs its finally)."""

        async def relay() -> AsyncIterator[str]:
            try:
                async for event in events:
                    yield event
            finally:
                self.release()

        wrapped = relay()
        weakref.finalize(wrapped, self.release)
        return wrapped


class Admission:
    """Counts chat requests in flight; one past the limit is refused rather than queued behind the engine."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def enter(self) -> Slot:
        if not self._slots.acquire(blocking=False):
            raise APIError(429, "The server is busy; retry shortly.", code="rate_limit_exceeded")
        return Slot(self._slots)
