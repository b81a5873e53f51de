"""Graph policies without models: which errors are retried, how node timings merge, the public result."""

from __future__ import annotations

import httpx
import openai

from skillstack.agents.state import add_timings, node_seconds, public_result
from skillstack.errors import BackendError, InputError
from skillstack.graphs.retry import is_transient


def _status_error(code: int) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(code, request=request)
    cls = {400: openai.BadRequestError, 401: openai.AuthenticationError, 404: openai.NotFoundError,
           429: openai.RateLimitError, 500: openai.InternalServerError}.get(code, openai.APIStatusError)
    return cls("failed", response=response, body=None)


def test_server_errors_timeouts_and_dropped_connections_are_retried():
    request = httpx.Request("GET", "http://127.0.0.1/")
    assert is_transient(_status_error(500))
    assert is_transient(_status_error(503))
    assert is_transient(TimeoutError("slow"))
    assert is_transient(httpx.ConnectError("refused", request=request))
    assert is_transient(openai.APIConnectionError(request=request))


def test_client_errors_are_never_retried():
    for code in (400, 401, 404, 422, 429):
        assert not is_transient(_status_error(code)), code


def _wrapped(code: int) -> BackendError:
    """A BackendError raised from an openai status error, as a backend would wrap it."""
    try:
        try:
            raise _status_error(code)
        except openai.APIStatusError as exc:
            raise BackendError("the skill server failed") from exc
    except BackendError as wrapped:
        return wrapped


def test_a_wrapped_error_is_judged_by_its_cause():
    assert is_transient(_wrapped(502))
    assert not is_transient(_wrapped(404))


def test_user_errors_and_bugs_are_not_retried():
    assert not is_transient(InputError("empty query"))
    assert not is_transient(ValueError("bug"))


def test_timings_merge_is_idempotent_and_sums_repeated_nodes():
    router = [{"node": "router", "seconds": 0.5, "id": "1"}]
    first = add_timings(router, [{"node": "reason", "seconds": 2.0, "id": "2"}])
    # A subgraph hands back everything it was given plus its own entries.
    merged = add_timings(first, first + [{"node": "reason", "seconds": 1.0, "id": "3"}])
    assert node_seconds(merged) == {"router": 0.5, "reason": 3.0}


def test_public_result_has_the_ask_contract_keys():
    result = public_result({"route": "skill", "skill": "brand-voice", "answer": "Hi there,"})
    assert {"route", "skill", "answer", "citations", "sources"} <= set(result)
    assert result["citations"] == [] and result["sources"] == []
    traced = public_result({"route": "hybrid", "issues": ["a case"], "hits": [{"source": "s", "metadata": {"article": "4"}}]})
    assert traced["issues"] == ["a case"] and traced["retrieved"] == [{"source": "s", "article": "4"}]


def test_a_new_task_resets_every_per_task_field_including_timings():
    from skillstack.agents.state import GraphState, new_task_input

    fresh = new_task_input("next question")
    # Only the transcript carries over: a thread's messages are its conversation.
    assert set(fresh) == set(GraphState.__annotations__) - {"messages"}
    assert add_timings([{"node": "router", "seconds": 1.0, "id": "1"}], fresh["timings"]) == []


def test_edges_follow_the_decision_the_gate_verdict_and_the_clarification():
    from skillstack.agents.lawyer.flow import after_gate
    from skillstack.graphs.graph import after_fallback, after_router

    assert [after_router({"route": r}) for r in ("rag", "skill", "hybrid", "fallback")] == ["rag", "skill", "hybrid", "fallback"]
    assert after_gate({"verified": None, "answer": None}) == "reason"
    assert after_gate({"verified": False, "answer": ""}) == "done"  # an empty draft out of attempts still ends
    assert after_fallback({"answer": None, "clarified": True}) == "router"
    assert after_fallback({"answer": "base model answer"}) == "answer"
