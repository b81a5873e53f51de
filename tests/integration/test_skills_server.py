"""`skillstack serve` on loopback, used through the real `openai` SDK, and the openai / openai-compatible backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.settings import load_settings
from skillstack.skills.manifest import SkillManifest, write_manifest
from skillstack.skills.runtime import chat_model, get_runtime
from skillstack.skills.structured import schema_errors

from server_fixtures import KEY, client, running, server_url  # noqa: F401 - fixtures
from skills_fixtures import FT_ID, PROMPT, STATUS_SCHEMA, expected_output, skills_home  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


def test_models_endpoint_lists_base_and_local_skills(client) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"base", "tone-a", "tone-b", "status-json"} <= ids
    assert "pickled" not in ids


def test_chat_completion_through_the_sdk_equals_the_local_skill(client, skills_home: Path) -> None:
    response = client.chat.completions.create(model="tone-a", messages=[{"role": "user", "content": PROMPT}],
                                              temperature=0, max_tokens=8)
    assert response.choices[0].message.content == expected_output(skills_home, "tone-a")
    assert response.usage.completion_tokens <= 8


def test_streamed_chat_completion_concatenates_to_the_answer(client, skills_home: Path) -> None:
    stream = client.chat.completions.create(model="tone-a", messages=[{"role": "user", "content": PROMPT}],
                                            temperature=0, max_tokens=8, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == expected_output(skills_home, "tone-a")


def test_response_format_json_schema_constrains_the_base_model(client) -> None:
    response = client.chat.completions.create(
        model="base", messages=[{"role": "user", "content": "Is the service up? Answer in JSON."}], max_tokens=20,
        response_format={"type": "json_schema", "json_schema": {"name": "status", "schema": STATUS_SCHEMA}})
    assert schema_errors(json.loads(response.choices[0].message.content), STATUS_SCHEMA) == []


def test_unknown_model_is_a_404_error_for_the_sdk(client) -> None:
    import openai

    with pytest.raises(openai.NotFoundError, match="unknown skill"):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])


def test_openai_compatible_skill_runs_against_the_local_server(server_url: str, skills_home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the compatible backend sends it, and this server checks it
    home = tmp_path / "client-home"
    write_manifest(home / "skills" / "remote-tone", SkillManifest(
        name="remote-tone", kind="tone", backend="openai-compatible", base_url=server_url, model="tone-a"))
    (home / "skills" / "remote-status").mkdir(parents=True)
    (home / "skills" / "remote-status" / "schema.json").write_text(json.dumps(STATUS_SCHEMA))
    write_manifest(home / "skills" / "remote-status", SkillManifest(
        name="remote-status", kind="format", backend="openai-compatible", base_url=server_url, model="base",
        output="json", schema="schema.json"))
    settings = load_settings(home)
    remote = chat_model(settings, "remote-tone", max_tokens=8)
    assert remote.invoke(PROMPT).content == expected_output(skills_home, "tone-a")
    assert "".join(c.content for c in remote.stream(PROMPT)) == expected_output(skills_home, "tone-a")
    parsed = chat_model(settings, "remote-status", max_tokens=20).invoke("Is it up?").response_metadata["parsed"]
    assert schema_errors(parsed, STATUS_SCHEMA) == []
    assert get_runtime(settings)._batcher is None  # no local model was loaded for remote skills


def test_openai_backend_sends_the_ft_model_id_through_the_sdk(server_url: str, skills_home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "openai-home"
    write_manifest(home / "skills" / "cloud-tone", SkillManifest(name="cloud-tone", kind="tone", backend="openai",
                                                                 model=FT_ID))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    settings = load_settings(home, openai_base_url=server_url)
    answer = chat_model(settings, "cloud-tone", max_tokens=8).invoke(PROMPT).content
    assert answer == expected_output(skills_home, "tone-a")  # the server resolved the ft: id to tone-a
