"""The skills runtime: one per settings, turning skill names into LangChain chat models.

`chat_model(settings, "base")` is the base model without adapter; any discovered skill name
gives that skill on its backend. The local engine (base model + adapters) is built once,
on first local use; with settings.skill_server (e.g. `skillstack vllm`) the base model and peft skills are
that server's models instead, by name, and no local engine loads. Discovery lives in registry.py, which backend a manifest's name means in
backends/registry.py, token generation in backends/.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from skillstack.errors import SkillError
from skillstack.settings import Settings
from .backends.requests import Backend
from .chat_model import SkillChatModel
from .manifest import SkillManifest
from .registry import Discovery, Skill, discover_skills

BASE = "base"
_runtimes: dict[Settings, SkillRuntime] = {}
_runtimes_lock = threading.Lock()


class SkillRuntime:
    """Skills of one settings: discovery (cached until refresh) and the shared local engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._discovery: Discovery | None = None
        self._batcher: Any = None
        self._lock = threading.Lock()

    def discovery(self, *, refresh: bool = False) -> Discovery:
        with self._lock:
            if self._discovery is None or refresh:
                self._discovery = discover_skills(self.settings)
            return self._discovery

    def skill(self, name: str) -> Skill:
        """The discovered skill called name; SkillError saying why when it was rejected or is unknown."""
        for refresh in (False, True):  # a folder dropped in since the last look is found without a restart
            found = self.discovery(refresh=refresh)
            if name in found.skills:
                return found.skills[name]
        for rejected in found.rejected:
            if name in (rejected.name, Path(rejected.path).name):
                raise SkillError(f"skill '{name}' was rejected: {rejected.reason}")
        known = ", ".join(sorted(found.skills)) or "none"
        raise SkillError(f"unknown skill '{name}' (available: base, {known}); see `skillstack skills list`")

    @property
    def batcher(self) -> Any:
        """The local engine's batcher (settings.local_batching: the continuous Scheduler or the older gathering
        Batcher); loading the base model on first use."""
        with self._lock:
            if self._batcher is None:
                from .backends.local import LocalEngine

                engine = LocalEngine(self.settings)
                if self.settings.local_batching == "gather":
                    from .backends.batching import Batcher

                    self._batcher = Batcher(engine)
                else:
                    from .backends.scheduler import Scheduler

                    self._batcher = Scheduler(engine, max_rows=self.settings.max_batch_rows)
            return self._batcher

    @property
    def engine(self) -> Any:
        return self.batcher.engine

    def chat_model(self, name: str = BASE, **overrides: Any) -> SkillChatModel:
        """Skill `name` as a chat model; overrides: temperature, top_p, max_tokens, stop, system_prompt, max_retries, timeout."""
        from .backends.openai import served_backend

        server = self.settings.skill_server
        if name == BASE:
            from .backends.batching import LocalBackend

            backend = served_backend(server, BASE) if server else LocalBackend(batcher=self.batcher)
            return self._build(name, None, backend, overrides)
        from .backends.registry import build_backend

        skill = self.skill(name)
        # A skill server (`skillstack vllm`) serves every local adapter under its skill's name.
        served = server and skill.manifest.backend == "peft"
        return self._build(name, skill, served_backend(server, name) if served else build_backend(self, skill), overrides)

    def _build(self, name: str, skill: Skill | None, backend: Backend, overrides: dict[str, Any]) -> SkillChatModel:
        manifest: SkillManifest | None = skill.manifest if skill else None
        from skillstack.models import base_model_id

        # The model behind the skill: a remote skill's model id, else the local base model's.
        model = manifest.model if manifest is not None and manifest.model else base_model_id(self.settings)
        values: dict[str, Any] = {"skill": name, "backend": backend, "model": model}
        if manifest is not None:
            gen = manifest.generation
            values.update(system_prompt=manifest.system_prompt, temperature=gen.temperature, top_p=gen.top_p,
                          max_tokens=gen.max_tokens, stop=list(gen.stop), json_schema=skill.schema,
                          labels=list(manifest.labels) or None)
        allowed = {"temperature", "top_p", "max_tokens", "stop", "system_prompt", "max_retries", "timeout"}
        unknown = set(overrides) - allowed
        if unknown:
            raise SkillError(f"unknown chat_model override(s): {', '.join(sorted(unknown))} "
                             f"(allowed: {', '.join(sorted(allowed))})")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return SkillChatModel(**values)


def get_runtime(settings: Settings) -> SkillRuntime:
    """The runtime for settings, created once per process."""
    with _runtimes_lock:
        if settings not in _runtimes:
            _runtimes[settings] = SkillRuntime(settings)
        return _runtimes[settings]


def chat_model(settings: Settings, name: str = BASE, **overrides: Any) -> SkillChatModel:
    """Skill `name` ("base" = base model without adapter) as a LangChain chat model."""
    return get_runtime(settings).chat_model(name, **overrides)


def default_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model for RAG answers and judges: OpenAI's settings.chat_model when OPENAI_API_KEY is set, else local base."""
    if settings.chat_model and os.environ.get("OPENAI_API_KEY"):
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=settings.chat_model, base_url=settings.openai_base_url or None, temperature=0)
    return chat_model(settings, BASE)
