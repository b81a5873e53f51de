"""The graph's retry policy: retry transient failures (timeouts, dropped connections, 5xx) and never a 4xx.

A 4xx means the request itself is wrong (bad key, unknown model, invalid input), so repeating it
only repeats the error. Not here: which nodes get the policy (graphs/graph.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it (a BackendError wrapping an openai error, say)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def status_code(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (openai/httpx style), if any, along its cause chain."""
    for item in _chain(exc):
        for candidate in (getattr(item, "status_code", None), getattr(getattr(item, "response", None), "status_code", None)):
            if isinstance(candidate, int):
                return candidate
    return None


def _transient_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import httpx

        types.append(httpx.TransportError)
    except ImportError:  # httpx comes with openai; without it there is nothing of its to catch
        pass
    try:
        import openai

        types += [openai.APIConnectionError, openai.APITimeoutError]
    except ImportError:
        pass
    return tuple(types)


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: a 5xx, a timeout or a dropped connection; never a 4xx."""
    code = status_code(exc)
    if code is not None:
        return code >= 500
    transient = _transient_types()
    return any(isinstance(item, transient) for item in _chain(exc))


def retry_policy(max_attempts: int = 3) -> Any:
    """LangGraph RetryPolicy with is_transient as its filter."""
    from langgraph.types import RetryPolicy

    return RetryPolicy(max_attempts=max_attempts, initial_interval=0.5, retry_on=is_transient)
