"""Real servers on loopback ports for tests: `skillstack serve`'s app in a thread of the test process behind a
test key (running, server_url, client), or any server command as a child process (launched)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

KEY = "sk-test-server-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def launched(command: Sequence[str], health_url: str, *, env: dict[str, str], log: Path,
             cwd: Path | None = None, timeout: float = 600) -> Iterator[subprocess.Popen]:
    """Run a server command as a child process (output to log) until health_url answers 200; stop it after."""
    import httpx

    with log.open("wb") as out:
        process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, env=os.environ | env, cwd=cwd)
    try:
        deadline = time.time() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"{command[0]} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(health_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                pytest.fail(f"{command[0]} did not answer {health_url} in {timeout:.0f} s")
            time.sleep(0.5)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve app with uvicorn on a free 127.0.0.1 port; yields the /v1 base URL."""
    import uvicorn

    port = free_port()
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
