"""What the model graders (score_model, label_model) share: prompt templates, judge resolution, asking.

A judge is any LangChain chat model: "base" or a local skill name goes to the skills runtime;
any other model name to OpenAI (or settings.openai_base_url) when OPENAI_API_KEY is set.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from skillstack.coerce import coerce
from skillstack.errors import ConfigError
from skillstack.messages import content_text
from .base import BuildContext
from .templates import check_template, render

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

JUDGE_ROLES = ("system", "developer", "user", "assistant")
# Judges answer with a number or a label: a few tokens suffice and keep local judging fast.
JUDGE_MAX_TOKENS = 16


def check_prompt(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The grader's `input` messages, checked: a non-empty list of {role, content template}."""
    messages = spec.get("input")
    label = f"grader {spec.get('name') or spec.get('type')!r}"
    if not isinstance(messages, list) or not messages:
        raise ConfigError(f"{label}: 'input' must be a non-empty list of {{role, content}} messages")
    checked = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in JUDGE_ROLES:
            raise ConfigError(f"{label}: input[{index}] needs a role among {', '.join(JUDGE_ROLES)}")
        content = message.get("content")
        checked.append({"role": message["role"], "content": check_template(content, f"{label} input[{index}].content")})
    return checked


def _is_local(model: str, context: BuildContext) -> bool:
    if model == "base":
        return True
    from skillstack.skills.runtime import get_runtime

    return context.settings is not None and model in get_runtime(context.settings).discovery().skills


def resolve_chat_model(model: str, context: BuildContext, sampling: dict[str, Any]) -> BaseChatModel:
    """The chat model that judges for `model`, built once per build context."""
    if context.judge is not None:
        return context.judge
    key = f"judge:{model}:{sorted(sampling.items())}"
    if key in context.cache:
        return context.cache[key]
    origin = f"judge {model!r}"
    params = {"temperature": coerce(sampling.get("temperature", 0.0), float, name="sampling_params.temperature",
                                    origin=origin, label="field"),
              "max_tokens": coerce(sampling.get("max_completions_tokens", sampling.get("max_tokens", JUDGE_MAX_TOKENS)),
                                   int, name="sampling_params.max_completions_tokens", origin=origin, label="field")}
    if context.settings is not None and _is_local(model, context):
        from skillstack.skills.runtime import chat_model

        judge = chat_model(context.settings, model, **params)
    elif os.environ.get("OPENAI_API_KEY"):
        from langchain_openai import ChatOpenAI

        base_url = (context.settings.openai_base_url if context.settings else "") or None
        judge = ChatOpenAI(model=model, base_url=base_url, **params)
    else:
        raise ConfigError(f"judge model {model!r} is not a local skill (or 'base') and OPENAI_API_KEY is not set")
    context.cache[key] = judge
    return judge


def ask(judge: BaseChatModel, prompt: list[dict[str, str]], instruction: str, sample: dict[str, Any],
        item: dict[str, Any]) -> str:
    """Render the prompt, append the answer-format instruction, and return the judge's reply text."""
    messages = [(m["role"] if m["role"] != "developer" else "system", render(m["content"], sample, item)) for m in prompt]
    messages.append(("user", instruction))
    return content_text(judge.invoke(messages).content)
