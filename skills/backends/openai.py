"""Remote backends through the `openai` SDK: `openai` (ft: models on OpenAI) and `openai-compatible` (base_url + model).

An openai-compatible server is e.g. vLLM with `--enable-lora --lora-modules name=path`, or
`skillstack serve`. JSON skills send their schema as response_format; the chat model still
validates every answer. Not here: prompts, retries, parsing (chat_model.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skillstack.errors import BackendError, SkillError
from skillstack.skills.item_sums import without_item_sums
from .registry import register_backend
from .requests import Backend, ChatRequest, Completion, stream_with_stop

if TYPE_CHECKING:
    from skillstack.skills.registry import Skill
    from skillstack.skills.runtime import SkillRuntime

# Local OpenAI-compatible servers usually ignore the key, but the SDK insists on one.
_PLACEHOLDER_KEY = "not-needed"


@dataclass(kw_only=True)
class OpenAIBackend(Backend):
    client: Any
    model: str
    # OpenAI's newer models take max_completion_tokens; vLLM and most compatible servers take max_tokens.
    token_limit_param: str = "max_tokens"

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "messages": request.messages, "temperature": request.temperature,
                                  "top_p": request.top_p, self.token_limit_param: request.max_tokens}
        if request.stop:
            params["stop"] = list(request.stop)
        if request.timeout:
            params["timeout"] = request.timeout
        if request.json_schema is not None:
            params["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "output", "schema": without_item_sums(request.enforced_schema())}}
        if request.logprobs:
            params["logprobs"] = True
            if request.top_logprobs:
                params["top_logprobs"] = request.top_logprobs
        return params

    def _call(self, **params: Any) -> Any:
        import openai

        try:
            return self.client.chat.completions.create(**params)
        except openai.NotFoundError as exc:
            raise BackendError(f"{self.client.base_url} does not serve model '{self.model}' ({exc}); "
                               f"see GET {self.client.base_url}models for the names it serves") from exc
        except openai.APIError as exc:
            raise BackendError(f"{self.client.base_url} refused model '{self.model}': {exc}") from exc

    def complete(self, request: ChatRequest) -> Completion:
        response = self._call(**self._params(request))
        choice = response.choices[0]
        usage = response.usage
        content = choice.logprobs.content if request.logprobs and choice.logprobs else None
        return Completion(text=choice.message.content or "", finish_reason=choice.finish_reason or "stop",
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0,
                          logprobs=[entry.model_dump() for entry in content] if content is not None else None)

    def stream(self, request: ChatRequest) -> Iterator[str | Completion]:
        usage: list[Any] = []
        finish: list[str] = []

        def deltas() -> Iterator[str]:
            for chunk in self._call(**self._params(request), stream=True, stream_options={"include_usage": True}):
                if chunk.usage:  # the last chunk, when the server honours include_usage
                    usage.append(chunk.usage)
                if chunk.choices and chunk.choices[0].finish_reason:
                    finish.append(chunk.choices[0].finish_reason)
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        # The server already cut at stop strings; this only guards servers that ignore `stop`.
        yield from stream_with_stop(deltas(), request.stop)
        yield Completion(text="", finish_reason=(finish or ["stop"])[-1],
                         prompt_tokens=usage[-1].prompt_tokens if usage else 0,
                         completion_tokens=usage[-1].completion_tokens if usage else 0)


def openai_backend(runtime: SkillRuntime, skill: Skill) -> OpenAIBackend:
    """An openai skill: its ft: model on OpenAI (or settings.openai_base_url), with OPENAI_API_KEY."""
    from openai import OpenAI

    settings, manifest = runtime.settings, skill.manifest
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        raise SkillError(f"skill '{manifest.name}' runs on OpenAI model '{manifest.model}'; set OPENAI_API_KEY")
    client = OpenAI(api_key=key, base_url=settings.openai_base_url or None)
    return OpenAIBackend(client=client, model=manifest.model, token_limit_param="max_completion_tokens")


def served_backend(base_url: str, model: str) -> OpenAIBackend:
    """Model `model` on the OpenAI-compatible server at base_url (the key is optional there)."""
    from openai import OpenAI

    return OpenAIBackend(client=OpenAI(api_key=os.environ.get("OPENAI_API_KEY") or _PLACEHOLDER_KEY, base_url=base_url),
                         model=model)


def compatible_backend(runtime: SkillRuntime, skill: Skill) -> OpenAIBackend:
    """An openai-compatible skill: its model on the server at its base_url."""
    return served_backend(skill.manifest.base_url, skill.manifest.model)


register_backend(name="openai", build=openai_backend, help="A fine-tuned model on OpenAI (manifest: model).")
register_backend(name="openai-compatible", build=compatible_backend,
                 help="A model on an OpenAI-compatible server such as vLLM or `skillstack serve` (manifest: base_url, model).")
