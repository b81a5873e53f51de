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


def _stream(client, thread_id: str, **run) -> list[tuple[str, object]]:
    return [(part.event, part.data) for part in client.runs.stream(thread_id, "skillstack", **run)]


@pytest.mark.parametrize(("context", "task", "node"), [
    ({"route": "skill", "skill": "brand-voice", "max_tokens": 24}, "Customer Maria was charged twice. Respond.", "skill"),
    ({"route": "hybrid", "max_tokens": 48}, "My landlord kept my deposit for six weeks after I moved out. Is that allowed?",
     "hybrid"),
])
def test_each_route_runs_in_its_own_thread_streaming_updates_and_message_tokens(client, context, task, node) -> None:
    thread = client.threads.create()
    parts = _stream(client, thread["thread_id"], input={"messages": [{"role": "user", "content": task}]}, context=context,
                    stream_mode=["updates", "messages-tuple"], stream_subgraphs=True)
    updated = [name for event, data in parts if event.startswith("updates") for name in data]
    assert updated[:2] == ["intake", "router"] and node in updated and updated[-1] == "answer"
    # Tokens as the model writes them, each tagged with the node that wrote it (LangGraph's "messages" stream).
    tokens = [data[0]["content"] for event, data in parts if event.startswith("messages") and data[0].get("content")]
    assert len(tokens) > 3
    values = client.threads.get_state(thread["thread_id"])["values"]
    assert values["route"] == context["route"] and values["messages"][-1]["content"] == values["answer"]


def test_the_clarifying_question_is_an_interrupt_resumed_with_a_command(client) -> None:
    thread = client.threads.create()
    parts = _stream(client, thread["thread_id"], input={"messages": [{"role": "user", "content": "hmm"}]},
                    context={"max_tokens": 16}, stream_mode="updates")
    [question] = [data["__interrupt__"][0]["value"] for event, data in parts if "__interrupt__" in data]
    assert "not sure" in question["question"]
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["fallback"] and state["tasks"][0]["interrupts"]

    resumed = client.runs.wait(thread["thread_id"], "skillstack", command={"resume": "I meant the deposit rules"},
                               context={"max_tokens": 16})
    assert resumed["clarified"] is True and resumed["task"] == "hmm\nI meant the deposit rules"
    assert resumed["answer"].strip() and resumed["messages"][-1]["content"] == resumed["answer"]
    assert client.threads.get_state(thread["thread_id"])["next"] == []
