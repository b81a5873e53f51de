"""Remote backends through the `openai` SDK: `openai` (ft: models on OpenAI) and `openai-compatible` (base_url + model).

An openai-compatible server is e.g. vLLM with `--enable-lora --lora-modules name=path`, or
`skillstack serve`. JSON skills send their schema as response_format; the chat model still
validates every answer. Not here: prompts, retries, parsing (chat_model.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from skillstack.errors import BackendError, SkillError
from skillstack.settings import Settings
from skillstack.skills.manifest import SkillManifest
from .requests import ChatRequest, Completion, stream_with_stop

# Local OpenAI-compatible servers usually ignore the key, but the SDK insists on one.
_PLACEHOLDER_KEY = "not-needed"


@dataclass(kw_only=True)
class OpenAIBackend:
    client: Any
    model: str
    # OpenAI's newer models take max_completion_tokens; vLLM and most compatible servers take max_tokens.
    token_limit_param: str = "max_tokens"

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "messages": request.messages, "temperature": request.temperature,
                                  "top_p": request.top_p, self.token_limit_param: request.max_tokens}
        if request.stop:
            params["stop"] = list(request.stop)
        if request.json_schema is not None:
            params["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "output", "schema": request.json_schema}}
        return params

    def _call(self, **params: Any) -> Any:
        import openai

        try:
            return self.client.chat.completions.create(**params)
        except openai.APIError as exc:
            raise BackendError(f"{self.client.base_url} refused model '{self.model}': {exc}") from exc

    def complete(self, request: ChatRequest) -> Completion:
        response = self._call(**self._params(request))
        choice = response.choices[0]
        usage = response.usage
        return Completion(text=choice.message.content or "", finish_reason=choice.finish_reason or "stop",
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0)

    def stream(self, request: ChatRequest) -> Iterator[str]:
        def deltas() -> Iterator[str]:
            for chunk in self._call(**self._params(request), stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        # The server already cut at stop strings; this only guards servers that ignore `stop`.
        return stream_with_stop(deltas(), request.stop)


def remote_backend(settings: Settings, manifest: SkillManifest) -> OpenAIBackend:
    """The backend of an openai or openai-compatible skill (the manifest was checked at discovery)."""
    from openai import OpenAI

    if manifest.backend == "openai":
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise SkillError(f"skill '{manifest.name}' runs on OpenAI model '{manifest.model}'; set OPENAI_API_KEY")
        client = OpenAI(api_key=key, base_url=settings.openai_base_url or None)
        return OpenAIBackend(client=client, model=manifest.model, token_limit_param="max_completion_tokens")
    client = OpenAI(api_key=os.environ.get("OPENAI_API_KEY") or _PLACEHOLDER_KEY, base_url=manifest.base_url)
    return OpenAIBackend(client=client, model=manifest.model)
