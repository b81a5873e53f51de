"""The compiled meta-agent graph with the real models, the real store and the bundled demo skills.

One store (the shipped demo documents) and one compiled graph for the module; generations are
capped short, since these tests prove the wiring of the four routes, not the answers' prose.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from skillstack.agents.state import node_seconds

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TASKS = {row["route"] + (f"/{row['skill']}" if row["route"] == "skill" else ""): row["text"]
         for row in map(json.loads, (REPO / "demo" / "tasks.jsonl").read_text().splitlines())}
MAX_TOKENS = 96


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory):
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    settings = load_settings(tmp_path_factory.mktemp("graph-home"))
    ingest_paths(settings, [REPO / "demo" / "docs"], progress=False)
    return settings


@pytest.fixture(scope="module")
def graph(demo_settings):
    from skillstack.graphs.graph import compile_graph

    return compile_graph(demo_settings, max_tokens=MAX_TOKENS)


def run(graph, text: str) -> dict:
    from skillstack.graphs.session import run_task

    return run_task(graph, text).values


def test_factual_question_takes_the_rag_route_and_cites_retrieved_articles(graph):
    state = run(graph, TASKS["rag"])
    assert (state["route"], state["skill"]) == ("rag", None)
    assert any(source.endswith("northwind-code-tenancy.md") for source in state["sources"])
    retrieved = {h["metadata"].get("article") for h in state["hits"]}
    assert state["citations"], "the RAG answer cites no article"
    for citation in state["citations"]:
        assert set(citation) == {"article", "verified", "source"}
        assert citation["verified"] == (citation["article"] in retrieved)


def test_customer_message_takes_the_brand_voice_skill_route_streaming_updates_and_tokens(graph):
    from skillstack.graphs.session import run_task

    events = []
    state = run_task(graph, TASKS["skill/brand-voice"], on_event=lambda ns, mode, chunk: events.append((mode, chunk))).values
    assert (state["route"], state["skill"]) == ("skill", "brand-voice")
    assert state["answer"].strip() and state["skill_output"]["parsed"] is None
    updated = [node for mode, chunk in events if mode == "updates" for node in chunk]
    assert updated[:3] == ["intake", "router", "skill"]
    # The skill's tokens as generated (the answer node then adds the whole answer to the transcript).
    tokens = "".join(chunk[0].content for mode, chunk in events
                     if mode == "messages" and chunk[1].get("langgraph_node") == "skill")
    assert tokens.strip() == state["answer"].strip()


def test_status_report_takes_the_json_skill_route_and_returns_schema_valid_json(graph, demo_settings):
    import jsonschema

    from skillstack.skills.registry import discover_skills

    state = run(graph, TASKS["skill/agent-status-json"])
    assert (state["route"], state["skill"]) == ("skill", "agent-status-json")
    parsed = state["skill_output"]["parsed"]
    jsonschema.validate(parsed, discover_skills(demo_settings).skills["agent-status-json"].schema)
    assert json.loads(state["answer"]) == parsed


def test_legal_case_takes_the_hybrid_route_through_retrieval_reasoning_and_the_citation_gate(graph):
    state = run(graph, TASKS["hybrid"])
    assert (state["route"], state["skill"]) == ("hybrid", "legal-reasoner")
    assert {"router", "issues", "retrieve", "reason", "citation_gate"} <= set(node_seconds(state["timings"]))
    assert 1 <= state["attempts"] <= 2
    retrieved = {h["metadata"].get("article") for h in state["hits"]}
    assert "4" in retrieved  # the deposits article
    for citation in state["citations"]:
        assert citation["verified"] == (citation["article"] in retrieved)
    assert isinstance(state["verified"], bool)
    if not state["verified"]:
        assert state["attempts"] == 2 and "[unverified" in state["answer"]


def test_unsure_router_asks_a_clarifying_question_in_a_sqlite_session_and_resumes(demo_settings):
    from skillstack.graphs.graph import compile_graph
    from skillstack.graphs.session import SESSIONS_FILE, run_task, sqlite_checkpointer
    from skillstack.settings import with_overrides

    unsure = with_overrides(demo_settings, router_threshold=1.01)
    with sqlite_checkpointer(unsure) as saver:
        graph = compile_graph(unsure, checkpointer=saver, max_tokens=8)
        first = run_task(graph, "hmm")
        assert first.question and "not sure" in first.question["question"]
        assert first.result()["needs_clarification"] is True
        second = run_task(graph, "I meant the deposit rules", thread_id=first.thread_id)
    assert second.question is None
    assert second.values["clarified"] is True and second.values["task"] == "hmm\nI meant the deposit rules"
    assert second.values["route"] == "fallback" and second.values["answer"].strip()
    assert (demo_settings.home / SESSIONS_FILE).exists()


def test_unsure_router_without_a_checkpointer_answers_with_the_base_model(demo_settings):
    from skillstack.graphs.graph import compile_graph
    from skillstack.settings import with_overrides

    graph = compile_graph(with_overrides(demo_settings, router_threshold=1.01), max_tokens=8)
    state = run(graph, "hmm")
    assert state["route"] == "fallback" and state["skill"] is None and state["answer"].strip()


def test_langgraph_json_loads_the_compiled_graph(demo_settings, monkeypatch):
    config = json.loads((REPO / "langgraph.json").read_text())
    path, _, attribute = config["graphs"]["skillstack"].partition(":")
    monkeypatch.setenv("SKILLSTACK_HOME", str(demo_settings.home))
    spec = importlib.util.spec_from_file_location("skillstack_langgraph_entry", REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    compiled = getattr(module, attribute)
    assert {"router", "rag", "skill", "hybrid", "fallback", "answer"} <= set(compiled.get_graph().nodes)


def test_a_skill_folder_dropped_in_joins_the_routes_at_the_next_build(demo_settings):
    from skillstack.agents.router import EmbeddingRouter

    folder = demo_settings.user_skills_dir / "haiku-writer"
    folder.mkdir(parents=True)
    (folder / "skill.toml").write_text(
        'version = 1\nname = "haiku-writer"\nkind = "tone"\nbackend = "openai-compatible"\n'
        'base_url = "http://127.0.0.1:9/v1"\nmodel = "haiku"\ndescription = "Writes haiku."\n'
        'routing_examples = ["Write a haiku about the sea.", "Turn this into a haiku: rain on the roof.", '
        '"A three-line haiku about autumn leaves, please."]\n', encoding="utf-8")
    try:
        decision = EmbeddingRouter(demo_settings).route("Compose a haiku about snow on the mountains.")
        assert (decision.route, decision.skill) == ("skill", "haiku-writer")
    finally:
        shutil.rmtree(folder)
    decision = EmbeddingRouter(demo_settings).route("Compose a haiku about snow on the mountains.")
    assert decision.skill != "haiku-writer"


def test_route_cli_prints_the_contract_json_and_batches(demo_settings, capsys, tmp_path):
    from skillstack.cli.main import main

    home = ["--home", str(demo_settings.home)]
    assert main([*home, "route", TASKS["skill/agent-status-json"], "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert set(decision) == {"route", "skill", "confidence", "reason"}
    assert (decision["route"], decision["skill"]) == ("skill", "agent-status-json")
    batch = tmp_path / "tasks.jsonl"
    batch.write_text("\n".join(json.dumps({"text": TASKS[key]}) for key in ("rag", "skill/brand-voice", "hybrid")))
    assert main([*home, "route", "--input", str(batch)]) == 0
    routes = [json.loads(line)["route"] for line in capsys.readouterr().out.splitlines()]
    assert routes == ["rag", "skill", "hybrid"]


def test_ask_cli_runs_the_graph_and_prints_the_contract_json(demo_settings, capsys):
    from skillstack.cli.main import main

    assert main(["--home", str(demo_settings.home), "ask", TASKS["skill/brand-voice"], "--json", "--max-tokens", "12"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"route", "skill", "answer", "citations", "sources"} <= set(result)
    assert (result["route"], result["skill"]) == ("skill", "brand-voice")


def test_empty_task_is_a_one_line_error(demo_settings, capsys):
    from skillstack.cli.main import main

    assert main(["--home", str(demo_settings.home), "route", "  ", "--json"]) == 2
    assert capsys.readouterr().err.startswith("error: the task is empty")


def test_demo_ingests_the_shipped_documents_and_prints_route_sources_and_answer(demo_settings, capsys, tmp_path):
    from skillstack.cli.main import main

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"text": TASKS["rag"], "route": "rag", "skill": None, "expect": "10 days, Article 4"}) + "\n")
    assert main(["--home", str(tmp_path / "home"), "demo", "--tasks", str(tasks), "--max-tokens", "8"]) == 0
    out = capsys.readouterr().out
    assert "added: 2" in out and "route: rag" in out and "northwind-code-tenancy.md" in out and "answer (" in out
    assert "expected outcome" in out and "10 days, Article 4" in out
    assert main(["--home", str(tmp_path / "home"), "demo", "--tasks", str(tasks), "--max-tokens", "8", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["expect"] == "10 days, Article 4" and row["expected_route"] == "rag"
    assert row["route"] == "rag" and row["route_as_expected"] is True and isinstance(row["answer"], str)


def test_every_shipped_demo_task_states_its_expected_outcome():
    rows = [json.loads(line) for line in (REPO / "demo" / "tasks.jsonl").read_text().splitlines() if line.strip()]
    assert len(rows) == 4 and all(row["expect"].strip() for row in rows)
    assert "10 days" in rows[0]["expect"] and "Article 4" in rows[0]["expect"]
    assert "NOT comply" in rows[3]["expect"] and "Article 4" in rows[3]["expect"]


def test_the_graph_publishes_its_input_output_and_context_schemas(graph):
    assert {"messages", "task"} <= set(graph.get_input_jsonschema()["properties"])
    assert {"messages", "answer", "route", "citations"} <= set(graph.get_output_jsonschema()["properties"])
    assert {"route", "skill", "max_tokens", "k"} <= set(graph.get_context_jsonschema()["properties"])


def test_chat_input_takes_the_last_human_message_as_the_task_and_appends_the_answer_as_an_ai_message(graph):
    from langchain_core.messages import AIMessage, HumanMessage

    earlier = [HumanMessage("Hello there"), AIMessage("Hi, how can I help?")]
    state = graph.invoke({"messages": [*earlier, HumanMessage(TASKS["rag"])]})
    assert state["task"] == TASKS["rag"] and state["route"] == "rag"
    reply = state["messages"][-1]
    assert isinstance(reply, AIMessage) and len(state["messages"]) == 4
    assert reply.content == state["answer"]
    assert reply.response_metadata["route"] == "rag" and reply.response_metadata["citations"] == state["citations"]
    assert {"skill", "confidence", "sources", "verified"} <= set(reply.response_metadata)


def test_task_input_joins_the_transcript_as_a_human_message(graph):
    from langchain_core.messages import AIMessage, HumanMessage

    state = graph.invoke({"task": TASKS["skill/agent-status-json"]}, context={"max_tokens": 64})
    first, reply = state["messages"]
    assert isinstance(first, HumanMessage) and first.content == TASKS["skill/agent-status-json"]
    assert isinstance(reply, AIMessage) and reply.response_metadata["skill"] == "agent-status-json"


def test_the_run_context_forces_the_route_and_skill_and_caps_tokens(graph):
    from skillstack.agents.state import RunContext

    state = graph.invoke({"task": TASKS["rag"]}, context=RunContext(skill="brand-voice", max_tokens=6))
    assert (state["route"], state["skill"], state["reason"]) == ("skill", "brand-voice", "forced by the run context")
    assert len(state["answer"].split()) <= 6


@pytest.mark.parametrize("context", [{"route": "teleport"}, {"skill": "no-such-skill"}])
def test_a_bad_run_context_is_refused_with_one_clear_error(graph, context):
    from skillstack.errors import InputError

    with pytest.raises(InputError, match="run context"):
        graph.invoke({"task": TASKS["rag"]}, context=context)


def test_an_unknown_run_context_key_is_refused_by_name(graph):
    with pytest.raises(TypeError, match="colour"):
        graph.invoke({"task": TASKS["rag"]}, context={"colour": "blue"})


def test_the_graph_runs_as_a_node_of_a_users_messages_state_graph(graph):
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.graph import END, START, MessagesState, StateGraph

    parent = StateGraph(MessagesState)
    parent.add_node("skillstack", graph)
    parent.add_edge(START, "skillstack")
    parent.add_edge("skillstack", END)
    state = parent.compile().invoke({"messages": [HumanMessage(TASKS["skill/brand-voice"])]},
                                    context={"max_tokens": 12})
    assert set(state) == {"messages"} and len(state["messages"]) == 2
    reply = state["messages"][-1]
    assert isinstance(reply, AIMessage) and reply.content.strip()
    assert (reply.response_metadata["route"], reply.response_metadata["skill"]) == ("skill", "brand-voice")


def test_the_compiled_graph_works_as_a_tool(graph):
    tool = graph.as_tool(name="skillstack", description="Answer a task with skillstack's knowledge and skills.")
    assert {"task", "messages"} <= set(tool.args)
    # The tool's arguments are the input schema's, transcript included (empty for a one-off task).
    result = tool.invoke({"task": TASKS["skill/brand-voice"], "messages": []})
    assert (result["route"], result["skill"]) == ("skill", "brand-voice") and result["answer"].strip()
