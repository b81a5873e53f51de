"""The project's langgraph.json served by the real LangGraph CLI (`langgraph dev`, the in-memory server) on
loopback, driven through langgraph_sdk as Studio and Agent Chat UI drive it: chat input, the answer with its
route and citations, the published schemas.

Offline and keyless: no LangSmith key, no license key (the server then skips its metadata loop), and the
CLI's analytics, the server's PyPI version check, tracing and the browser are turned off below.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_fixtures import free_port, launched

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
OFFLINE = {"LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "true", "LANGSMITH_TRACING": "false",
           "LANGCHAIN_TRACING_V2": "false", "LANGSMITH_API_KEY": "", "LANGGRAPH_CLOUD_LICENSE_KEY": ""}
QUESTION = "Within how many days must a landlord return the deposit?"


@pytest.fixture(scope="module")
def dev_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    home = tmp_path_factory.mktemp("langgraph-dev-home")
    ingest_paths(load_settings(home), [REPO / "demo" / "docs"], progress=False)
    port = free_port()
    # The CLI's own entry point, run by this interpreter (a venv's `langgraph` script may name another one),
    # from the folder of langgraph.json as `langgraph dev` expects (its in-memory state goes to .langgraph_api/).
    command = [sys.executable, "-c", "import sys; from langgraph_cli.cli import cli; sys.exit(cli())", "dev",
               "--config", str(REPO / "langgraph.json"), "--host", "127.0.0.1", "--port", str(port),
               "--no-browser", "--no-reload"]
    with launched(command, f"http://127.0.0.1:{port}/ok", env=OFFLINE | {"SKILLSTACK_HOME": str(home)},
                  log=home / "langgraph-dev.log", cwd=REPO):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def client(dev_url: str):
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=dev_url, timeout=900)


def test_the_served_graph_publishes_its_input_output_and_context_schemas(client) -> None:
    # The server's own assistant for the graph (a developer's earlier `langgraph dev` state may add others).
    [assistant] = client.assistants.search(graph_id="skillstack", metadata={"created_by": "system"})
    schemas = client.assistants.get_schemas(assistant["assistant_id"])
    assert {"messages", "task"} <= set(schemas["input_schema"]["properties"])
    assert {"messages", "answer", "route", "citations"} <= set(schemas["output_schema"]["properties"])
    assert {"route", "skill", "max_tokens", "k"} <= set(schemas["context_schema"]["properties"])


def test_a_chat_run_in_a_thread_answers_with_its_route_and_citations(client) -> None:
    thread = client.threads.create()
    updates = [part.data for part in client.runs.stream(
        thread["thread_id"], "skillstack", input={"messages": [{"role": "user", "content": QUESTION}]},
        context={"max_tokens": 48}, stream_mode="updates") if part.event == "updates"]
    nodes = [node for update in updates for node in update]
    assert nodes[:2] == ["intake", "router"] and "rag" in nodes

    values = client.threads.get_state(thread["thread_id"])["values"]
    question, reply = values["messages"]
    assert question["type"] == "human" and question["content"] == QUESTION
    assert reply["type"] == "ai" and reply["content"] == values["answer"] and reply["content"].strip()
    metadata = reply["response_metadata"]
    assert metadata["route"] == values["route"] == "rag"
    assert metadata["citations"] == values["citations"] and values["citations"]
    assert all(citation["source"].endswith(".md") for citation in values["citations"])
