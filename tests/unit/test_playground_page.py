"""The Playground page's serving: open without a key, holding no secret, kept to its own origin; the API stays keyed.

In-process (Starlette's TestClient): nothing here loads a model. The page's behaviour in a browser is
tests/integration/test_playground_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from skillstack.settings import load_settings
from skillstack.skills.server import create_app
from skillstack.skills.server.auth import KeyRing

KEY = "sk-playground-canary-0123456789"
PAGE_FILES = ("/playground", "/playground/static/playground.css") + tuple(
    f"/playground/static/{name}.js" for name in ("playground", "api", "chat", "jobs"))


@pytest.fixture
def client(home: Path) -> TestClient:
    return TestClient(create_app(load_settings(home), keys=KeyRing.of([KEY])), raise_server_exceptions=False)


def test_root_redirects_to_the_page_and_the_page_loads_without_a_key(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/playground"
    for path in PAGE_FILES:
        assert client.get(path).status_code == 200, path
    page = client.get("/playground")
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/playground/static/playground.js">' in page.text


def test_the_page_embeds_no_key_and_points_nowhere_but_its_own_origin(client: TestClient) -> None:
    for path in PAGE_FILES:
        text = client.get(path).text
        assert KEY not in text and "sk-skillstack-" not in text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, path
    policy = client.get("/playground").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_api_the_page_calls_still_needs_the_key(client: TestClient) -> None:
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/files"),
                         ("GET", "/v1/fine_tuning/jobs")):
        assert client.request(method, path).status_code == 401, path
    listed = client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()["data"]
    assert {"base", "skillstack-graph"} <= {m["id"] for m in listed}
    schema = client.get("/openapi.json", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert not any(path.startswith("/playground") or path == "/" for path in schema["paths"])


@pytest.mark.parametrize("path", ["/playground/static/../app.py", "/playground/static/%2e%2e/app.py",
                                  "/playground/static/..%2fapp.py", "/playground/static/nothing.js"])
def test_nothing_outside_the_static_folder_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and "create_app" not in response.text
