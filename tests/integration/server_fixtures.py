"""`skillstack serve`'s app on a real loopback port, in a thread of the test process, behind a test key."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

KEY = "sk-test-server-key"


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve app with uvicorn on a free 127.0.0.1 port; yields the /v1 base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server_url(skills_home: Path) -> Iterator[str]:
    """The app over the skills_home fixture's skills (import skills_home beside this), keyed with KEY."""
    from skillstack.settings import load_settings
    from skillstack.skills.server import create_app
    from skillstack.skills.server.auth import KeyRing

    with running(create_app(load_settings(skills_home), keys=KeyRing.of([KEY]))) as url:
        yield url


@pytest.fixture(scope="module")
def client(server_url: str) -> Any:
    """The official openai SDK against server_url; no retries, so a refused request shows at once."""
    from openai import OpenAI

    return OpenAI(base_url=server_url, api_key=KEY, max_retries=0)
