"""Requests to model `skillstack-graph` that the graph cannot honour are a 400 naming the field, before any model loads.

In-process (Starlette's TestClient); the graph answering for real is tests/integration/test_playground_browser.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from skillstack.settings import load_settings
from skillstack.skills.server import ServerOptions, create_app
from skillstack.skills.server.auth import KeyRing

KEY = "sk-graph-requests"
TASK = [{"role": "user", "content": "Write a reply to a customer whose parcel is late."}]


@pytest.fixture
def client(home: Path) -> TestClient:
    app = create_app(load_settings(home), options=ServerOptions(max_completion_tokens=64), keys=KeyRing.of([KEY]))
    return TestClient(app, raise_server_exceptions=False)


def _ask(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                           json={"model": "skillstack-graph", "messages": TASK} | fields)
    assert response.status_code == 400, response.text
    return response.json()["error"]


@pytest.mark.parametrize("field, value", [("temperature", 0.2), ("top_p", 0.5), ("stop", ["\n"]), ("seed", 1),
                                          ("response_format", {"type": "json_object"})])
def test_sampling_knobs_the_graph_nodes_own_are_refused_naming_them(client: TestClient, field: str, value: Any) -> None:
    error = _ask(client, **{field: value})
    assert error["param"] == field and "skillstack-graph" in error["message"]


def test_a_bad_streamed_request_is_an_http_error_before_any_event(client: TestClient) -> None:
    assert _ask(client, stream=True, top_p=0.5)["param"] == "top_p"


def test_the_last_message_must_be_the_users_task(client: TestClient) -> None:
    error = _ask(client, messages=TASK + [{"role": "assistant", "content": "Hello"}])
    assert error["param"] == "messages" and "user" in error["message"]


def test_max_tokens_past_the_servers_cap_is_refused(client: TestClient) -> None:
    assert _ask(client, max_tokens=65)["param"] == "max_tokens"
    assert _ask(client, max_completion_tokens=65)["param"] == "max_completion_tokens"
