"""The skill-backend registry: validated registration, and a registered backend serving a skill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from skillstack.errors import SkillError
from skillstack.skills.backends import registry
from skillstack.skills.backends.requests import Backend, ChatRequest, Completion
from skillstack.skills.manifest import SkillManifest, write_manifest
from skillstack.skills.runtime import SkillRuntime


class EchoBackend(Backend):
    """Answers with the last user message, as a plugin backend might."""

    def complete(self, request: ChatRequest) -> Completion:
        return Completion(text=request.messages[-1]["content"])

    def stream(self, request: ChatRequest) -> Iterator[str]:
        yield self.complete(request).text


@pytest.fixture
def echo_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry._BACKENDS, "entries", registry.backend_types())
    registry.register_backend(name="echo", build=lambda runtime, skill: EchoBackend(), help="Echoes the question.")


def test_builtin_backends_keep_their_manifest_names() -> None:
    assert {"peft", "openai", "openai-compatible"} <= set(registry.backend_types())


@pytest.mark.parametrize("name", ["", "Echo", "echo_1", "-x", None])
def test_invalid_backend_names_are_refused(name: object) -> None:
    with pytest.raises(SkillError, match="must match"):
        registry.register_backend(name=name, build=lambda runtime, skill: EchoBackend(), help="x")


def test_a_second_backend_under_a_taken_name_is_refused(echo_registered: None) -> None:
    with pytest.raises(SkillError, match="already registered"):
        registry.register_backend(name="echo", build=lambda runtime, skill: EchoBackend(), help="another")


def test_a_registered_backend_serves_a_skill_whose_manifest_names_it(echo_registered: None, settings, home: Path) -> None:
    write_manifest(home / "skills" / "parrot", SkillManifest(name="parrot", backend="echo"))
    model = SkillRuntime(settings).chat_model("parrot")
    assert isinstance(model.backend, EchoBackend) and model.invoke("polly").content == "polly"


def test_a_manifest_naming_an_unregistered_backend_is_refused(home: Path) -> None:
    with pytest.raises(SkillError, match="field 'backend' must be one of peft, openai, openai-compatible"):
        write_manifest(home / "skills" / "parrot", SkillManifest(name="parrot", backend="echo"))


def test_a_build_that_returns_no_backend_is_refused(monkeypatch: pytest.MonkeyPatch, settings, home: Path) -> None:
    monkeypatch.setattr(registry._BACKENDS, "entries", registry.backend_types())
    registry.register_backend(name="broken", build=lambda runtime, skill: object(), help="Builds nothing useful.")
    write_manifest(home / "skills" / "parrot", SkillManifest(name="parrot", backend="broken"))
    with pytest.raises(SkillError, match="not a Backend"):
        SkillRuntime(settings).chat_model("parrot")
