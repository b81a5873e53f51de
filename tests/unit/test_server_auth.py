"""API keys of `skillstack serve`: required on every route but /health, checked against hashes, never shown.

In-process (Starlette's TestClient): nothing here loads a model, since auth and body validation
answer before a route runs. The SDK's view of the same answers is in tests/integration/test_server_api.py.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from skillstack.errors import ConfigError
from skillstack.settings import load_settings
from skillstack.skills.server import ServerOptions, create_app, serve
from skillstack.skills.server.options import Admission
from skillstack.skills.server.auth import KeyRing, create_key, keys_path, read_keys_file
from skillstack.skills.server.errors import APIError

CANARY = "sk-canary-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILLSTACK_API_KEYS", raising=False)


@pytest.fixture
def key(home: Path) -> str:
    return create_key(load_settings(home), name="tests")


@pytest.fixture
def client(home: Path, key: str) -> TestClient:
    return TestClient(create_app(load_settings(home)), raise_server_exceptions=False)


def _every_route(app) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            path = route.path.replace("{model_id:path}", "base").replace("{file_id}", "file-" + "0" * 24)
            routes += [(method, path) for method in sorted(route.methods)]
    return routes


def test_every_route_but_health_answers_401_without_a_key(client: TestClient) -> None:
    routes = _every_route(client.app)
    assert ("GET", "/v1/chat/completions") not in routes and ("POST", "/v1/chat/completions") in routes
    assert ("GET", "/openapi.json") in routes and ("POST", "/v1/embeddings") in routes
    assert ("POST", "/v1/files") in routes and ("DELETE", "/v1/files/file-" + "0" * 24) in routes
    for method, path in routes:
        response = client.request(method, path, json={})
        if path == "/health":
            assert response.status_code == 200
            continue
        assert response.status_code == 401, (method, path)
        error = response.json()["error"]
        assert error["code"] == "invalid_api_key" and set(error) == {"message", "type", "param", "code"}


def test_a_wrong_key_is_401_and_never_echoed_nor_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for header in (f"Bearer {CANARY}", f"Basic {CANARY}", CANARY):
        response = client.get("/v1/models", headers={"Authorization": header})
        assert response.status_code == 401
        assert CANARY not in response.text
    assert CANARY not in caplog.text


def test_the_right_key_opens_every_route(client: TestClient, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/models", headers=headers).status_code == 200
    assert client.get("/openapi.json", headers=headers).json()["paths"]["/v1/chat/completions"]
    assert client.get("/v1/models/base", headers=headers).json()["id"] == "base"
    assert key not in client.get("/v1/models", headers=headers).text


def test_keys_file_holds_only_hashes_and_every_created_key_works(home: Path) -> None:
    settings = load_settings(home)
    first, second = create_key(settings, name="a"), create_key(settings, name="b")
    text = keys_path(settings).read_text()
    assert first not in text and second not in text
    assert [k.name for k in read_keys_file(keys_path(settings))] == ["a", "b"]
    ring = KeyRing.load(settings)
    assert ring.accepts(first) and ring.accepts(second) and not ring.accepts(first[:-1])
    assert keys_path(settings).stat().st_mode & 0o077 == 0  # readable by its owner only


def test_a_plain_key_pasted_into_the_keys_file_is_refused_without_being_echoed(home: Path) -> None:
    (home / "api_keys").write_text(f"# comment\n{CANARY}\n")
    with pytest.raises(ConfigError, match=r"api_keys:2: not a 'sha256:") as caught:
        KeyRing.load(load_settings(home))
    assert CANARY not in str(caught.value)


def test_keys_from_the_environment_are_accepted(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLSTACK_API_KEYS", f" {CANARY} ,other-key")
    client = TestClient(create_app(load_settings(home)))
    assert client.get("/v1/models", headers={"Authorization": "Bearer other-key"}).status_code == 200
    assert client.get("/v1/models", headers={"Authorization": "Bearer third"}).status_code == 401


def test_the_app_refuses_to_start_without_a_key_unless_auth_is_off(home: Path) -> None:
    with pytest.raises(ConfigError, match="skillstack keys create"):
        create_app(load_settings(home))
    open_app = TestClient(create_app(load_settings(home), options=ServerOptions(auth=False)))
    assert open_app.get("/v1/models").status_code == 200


def test_no_auth_is_refused_on_a_public_interface(home: Path) -> None:
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        with pytest.raises(ConfigError, match="loopback"):
            serve(load_settings(home), host=host, options=ServerOptions(auth=False))


@pytest.mark.parametrize("args, expected", [
    (["serve", "--no-auth", "--host", "0.0.0.0"], "loopback"),
    (["serve"], "skillstack keys create"),
])
def test_serve_command_refuses_to_start_unsafely(home: Path, args: list[str], expected: str) -> None:
    result = subprocess.run([sys.executable, "-m", "skillstack.cli.main", "--home", str(home), *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_keys_create_prints_the_key_once_and_list_shows_only_hash_prefixes(home: Path) -> None:
    run = [sys.executable, "-m", "skillstack.cli.main", "--home", str(home), "keys"]
    created = subprocess.run([*run, "create", "--name", "ci"], capture_output=True, text=True, timeout=120, check=True)
    key = created.stdout.splitlines()[0]
    assert key.startswith("sk-skillstack-") and KeyRing.load(load_settings(home)).accepts(key)
    listed = subprocess.run([*run, "list"], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "ci" in listed and key not in listed


def test_cors_is_off_unless_an_origin_is_configured(home: Path, key: str) -> None:
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    closed = TestClient(create_app(load_settings(home)))
    assert "access-control-allow-origin" not in closed.options("/v1/models", headers=preflight).headers
    opened = TestClient(create_app(load_settings(home), options=ServerOptions(cors_origins=("http://ok.example",))))
    allowed = opened.options("/v1/models", headers=preflight | {"Origin": "http://ok.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://ok.example"
    assert "access-control-allow-origin" not in opened.options("/v1/models", headers=preflight).headers


def test_an_oversized_body_is_413_before_it_is_read(home: Path, key: str) -> None:
    client = TestClient(create_app(load_settings(home), options=ServerOptions(max_body_bytes=1000)))
    response = client.post("/v1/chat/completions", content=b"x" * 5000, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_requests_past_the_in_flight_limit_get_429_and_every_way_out_frees_the_slot() -> None:
    import asyncio
    import gc

    admission = Admission(1)
    slot = admission.enter()
    with pytest.raises(APIError) as caught:
        admission.enter()
    assert caught.value.status == 429
    slot.release()
    slot.release()  # twice is once: a finished stream and its dropped response both release

    async def events():
        yield "data: x\n\n"

    async def drain(stream) -> list[str]:
        return [event async for event in stream]

    streamed = admission.enter()
    assert asyncio.run(drain(streamed.held_by(events()))) == ["data: x\n\n"]
    never_started = admission.enter().held_by(events())  # the client left before the first event
    del never_started
    gc.collect()
    admission.enter()
