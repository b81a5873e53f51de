"""The OpenAI surface of `skillstack serve` as other tools see it: the official `openai` SDK and langchain-openai.

Bad requests are refused with the SDK's own exception classes (never a 500), streamed replies carry
usage and an honest finish_reason, /v1/models/{id} and /v1/embeddings answer, and a client that
hangs up mid-stream stops the generation. One real uvicorn server on loopback for the module.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest

from skillstack.retrieval.embeddings import embedding_model_name, get_embedder
from skillstack.settings import load_settings
from skillstack.skills.runtime import get_runtime
from skillstack.skills.server import create_app
from skillstack.skills.server.auth import KeyRing

from server_fixtures import KEY, client, running, server_url  # noqa: F401 - fixtures
from skills_fixtures import PROMPT, expected_output, skills_home  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow
USER = [{"role": "user", "content": PROMPT}]


@pytest.mark.parametrize("bad", [
    {"response_format": "json"},
    {"stop": 5},
    {"stop": ["a", "b", "c", "d", "e"]},
    {"temperature": -1},
    {"top_p": 2},
    {"max_tokens": 10_000_000},
    {"max_completion_tokens": 0},
    {"n": 3},
    {"messages": [{"role": "user", "content": "hi"}] * 10_000},
    {"messages": [{"role": "wizard", "content": "hi"}]},
    {"messages": []},
    {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}},
    {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
    {"top_logprobs": 2},  # without logprobs
    {"logprobs": True, "stream": True},
], ids=lambda bad: "-".join(bad))
def test_bad_requests_are_400_bad_request_errors_for_the_sdk(client, bad: dict, caplog: pytest.LogCaptureFixture) -> None:
    import openai

    params = {"model": "tone-a", "messages": USER, "max_tokens": 4} | bad
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**params)
    error = caught.value.body
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text


def test_an_unknown_parameter_is_refused_like_openai_does(client) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: frobnicate"):
        client.chat.completions.create(model="tone-a", messages=USER, max_tokens=4, extra_body={"frobnicate": 1})


def test_logprobs_give_each_answer_token_its_log_probability_and_alternatives(client) -> None:
    reply = client.chat.completions.create(model="base", messages=USER, max_tokens=6, temperature=0, logprobs=True,
                                           top_logprobs=3)
    choice = reply.choices[0]
    content = choice.logprobs.content
    assert "".join(entry.token for entry in content) == choice.message.content
    for entry in content:
        assert entry.logprob <= 0 and len(entry.top_logprobs) == 3 and entry.bytes == list(entry.token.encode())
        # greedy and unconstrained: the chosen token is the likeliest one
        assert entry.top_logprobs[0].token == entry.token and abs(entry.top_logprobs[0].logprob - entry.logprob) < 1e-4
    plain = client.chat.completions.create(model="base", messages=USER, max_tokens=6, temperature=0)
    assert plain.choices[0].logprobs is None and plain.choices[0].message.content == choice.message.content


def test_a_wrong_key_is_an_authentication_error(server_url: str) -> None:
    import openai

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server_url, api_key="sk-wrong", max_retries=0).models.list()


def test_a_reply_cut_by_max_tokens_says_length_streamed_or_not(client) -> None:
    whole = client.chat.completions.create(model="base", messages=USER, max_tokens=3, temperature=0)
    assert whole.choices[0].finish_reason == "length" and whole.usage.completion_tokens == 3
    chunks = list(client.chat.completions.create(model="base", messages=USER, max_tokens=3, temperature=0, stream=True))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole.choices[0].message.content


def test_a_reply_that_ends_itself_says_stop(client) -> None:
    chunks = list(client.chat.completions.create(model="base", messages=[{"role": "user", "content": "Say OK."}],
                                                 max_tokens=200, temperature=0, stream=True, stop=[" "]))
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_include_usage_yields_a_final_usage_chunk(client, skills_home: Path) -> None:
    chunks = list(client.chat.completions.create(model="tone-a", messages=USER, max_tokens=8, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == [] and last.usage.completion_tokens > 0 and last.usage.prompt_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected_output(skills_home, "tone-a")
    plain = list(client.chat.completions.create(model="tone-a", messages=USER, max_tokens=8, stream=True))
    assert all(getattr(c, "usage", None) is None for c in plain)


def test_models_retrieve_finds_a_skill_and_404s_an_unknown_id(client, skills_home: Path) -> None:
    import openai

    assert client.models.retrieve("tone-a").id == "tone-a"
    assert client.models.retrieve(embedding_model_name(load_settings(skills_home))).object == "model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_embeddings_are_the_stores_own_vectors_in_both_encodings(client, skills_home: Path) -> None:
    import openai

    settings = load_settings(skills_home)
    model = embedding_model_name(settings)
    texts = ["the controller must notify the authority", "a data subject may object"]
    expected = get_embedder(settings).embed(texts)
    as_base64 = client.embeddings.create(model=model, input=texts)  # the SDK asks for base64 and decodes it
    as_float = client.embeddings.create(model=model, input=texts[0], encoding_format="float")
    assert np.allclose([d.embedding for d in as_base64.data], expected, atol=1e-6)
    assert np.allclose(as_float.data[0].embedding, expected[0], atol=1e-6)
    assert as_base64.usage.prompt_tokens > as_float.usage.prompt_tokens > 0
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="x")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=model, input=[""])


def test_langchain_openai_chats_and_embeds_through_the_server(server_url: str, skills_home: Path) -> None:
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings

    chat = ChatOpenAI(base_url=server_url, api_key=KEY, model="tone-a", temperature=0, max_tokens=8, max_retries=0)
    assert chat.invoke(PROMPT).content == expected_output(skills_home, "tone-a")
    streamed = list(ChatOpenAI(base_url=server_url, api_key=KEY, model="tone-a", temperature=0, max_tokens=8,
                               stream_usage=True, max_retries=0).stream(PROMPT))
    assert "".join(c.content for c in streamed) == expected_output(skills_home, "tone-a")
    assert sum((c.usage_metadata or {}).get("output_tokens", 0) for c in streamed) > 0
    settings = load_settings(skills_home)
    embeddings = OpenAIEmbeddings(base_url=server_url, api_key=KEY, model=embedding_model_name(settings),
                                  check_embedding_ctx_length=False, max_retries=0)
    assert np.allclose(embeddings.embed_query("right of access"), get_embedder(settings).embed(["right of access"])[0],
                       atol=1e-6)


def test_a_client_hanging_up_mid_stream_stops_the_generation(server_url: str, skills_home: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    import httpx

    engine = get_runtime(load_settings(skills_home)).engine
    before = engine.cancelled_requests
    body = {"model": "base", "messages": [{"role": "user", "content": "Write a very long story about a dragon."}],
            "max_tokens": 4000, "temperature": 0, "stream": True}
    with httpx.stream("POST", f"{server_url}/chat/completions", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {KEY}"}) as response:
        events = response.iter_lines()
        received = [line for line, _ in zip(events, range(8)) if line.startswith("data:")]
    assert len(received) >= 3
    # Generating 4000 tokens would hold the engine for minutes; a stopped stream frees it after a token.
    deadline = time.time() + 120
    while engine.cancelled_requests == before and time.time() < deadline:
        time.sleep(0.1)
    assert engine.cancelled_requests == before + 1
    assert engine.lock.acquire(timeout=120)
    engine.lock.release()
    assert "internal error" not in caplog.text


def test_a_non_streamed_client_that_times_out_has_its_generation_dropped(client, skills_home: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    import openai

    engine = get_runtime(load_settings(skills_home)).engine
    client.chat.completions.create(model="base", messages=[{"role": "user", "content": "Hi"}], max_tokens=1)  # loaded
    before = engine.cancelled_requests
    with pytest.raises(openai.APITimeoutError):  # 4000 tokens take minutes on a CPU: the client gives up first
        client.with_options(timeout=5).chat.completions.create(
            model="base", messages=[{"role": "user", "content": "Write a very long story about a dragon."}],
            max_tokens=4000, temperature=0)
    deadline = time.time() + 120
    while engine.cancelled_requests == before and time.time() < deadline:
        time.sleep(0.1)
    assert engine.cancelled_requests == before + 1
    # The engine is free again: the abandoned request left the batch instead of decoding 4000 tokens.
    follow = client.chat.completions.create(model="base", messages=[{"role": "user", "content": "Say hi."}],
                                            max_tokens=2, temperature=0)
    assert follow.usage.completion_tokens == 2
    assert all(row.request.max_tokens != 4000 for row in get_runtime(load_settings(skills_home)).batcher._running)
    assert "internal error" not in caplog.text


def test_a_bug_is_a_bare_500_in_openai_shape_and_logged_without_the_key(skills_home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    import openai

    from skillstack.skills.server import app as server_app

    def broken(_settings):
        raise RuntimeError("boom")

    monkeypatch.setattr(server_app, "_models", broken)
    caplog.set_level(logging.ERROR, logger="skillstack.server")
    with running(create_app(load_settings(skills_home), keys=KeyRing.of([KEY]))) as url:
        with pytest.raises(openai.InternalServerError) as caught:
            openai.OpenAI(base_url=url, api_key=KEY, max_retries=0).models.list()
    assert caught.value.body["code"] == "internal_error" and "boom" not in str(caught.value.body)
    assert "boom" in caplog.text and KEY not in caplog.text
