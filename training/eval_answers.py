"""Answers to held-out prompts for evaluation: a skill or the base model through the skills runtime, or RAG.

Holds batched greedy generation (sent concurrently so the runtime merges each chunk into one batch),
the prompt-token count of each request, and RAG answers over the knowledge store. Not here: scoring
(training/evaluate.py) or the card (training/eval_card.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from skillstack.settings import Settings

Prompt = list[Any]  # chat messages: (role, text) pairs or role/content dicts
CHUNK = 16  # requests in flight at once, and the step of the progress bar


@dataclass(frozen=True, kw_only=True)
class Output:
    """One answer: its text, its parsed JSON (JSON skills), the prompt's tokens and, if it failed, why."""

    text: str
    parsed: Any
    prompt_tokens: int
    error: str | None = None


def generate_outputs(settings: Settings, model_name: str, prompts: list[Prompt], *, system_prompt: str | None = None,
                     json_schema: dict[str, Any] | None = None, labels: list[str] | None = None,
                     max_tokens: int = 256, progress: bool = False, label: str | None = None,
                     temperature: float = 0.0) -> list[Output]:
    """Answers of a skill (or "base") to each prompt, greedy unless temperature > 0; `system_prompt` replaces the skill's own.

    `json_schema` decodes under that schema, `labels` to exactly one of those labels; an answer that
    still fails after the runtime's retries comes back as an Output with the error, not as an exception.
    """
    from tqdm import tqdm

    from skillstack.skills.runtime import chat_model

    overrides: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
    if system_prompt is not None:
        overrides["system_prompt"] = system_prompt
    chat: Any = chat_model(settings, model_name, **overrides)
    constraint = {k: v for k, v in (("json_schema", json_schema), ("labels", labels)) if v is not None}
    model = chat.bind(**constraint) if constraint else chat
    outputs: list[Output] = []
    with tqdm(total=len(prompts), desc=f"eval {label or model_name}", unit="ex", disable=not progress) as bar:
        for start in range(0, len(prompts), CHUNK):
            chunk = prompts[start:start + CHUNK]
            answers = model.batch(chunk, config={"max_concurrency": CHUNK}, return_exceptions=True)
            for prompt, answer in zip(chunk, answers, strict=True):
                outputs.append(_output(settings, chat, prompt, answer))
            bar.update(len(chunk))
    return outputs


def _output(settings: Settings, chat: Any, prompt: Prompt, answer: Any) -> Output:
    if isinstance(answer, Exception):
        # No usage comes back with a failure; the prompt still cost what the chat template makes of it.
        return Output(text="", parsed=None, prompt_tokens=count_prompt_tokens(settings, chat, prompt),
                      error=f"{type(answer).__name__}: {answer}")
    usage = answer.usage_metadata or {}
    text = answer.content if isinstance(answer.content, str) else str(answer.content)
    return Output(text=text, parsed=answer.response_metadata.get("parsed"), prompt_tokens=int(usage.get("input_tokens", 0)))


def count_prompt_tokens(settings: Settings, chat: Any, prompt: Prompt) -> int:
    """Tokens of the prompt `chat` (a skill chat model) sends for `prompt`, as the runtime counts input_tokens."""
    from langchain_core.messages import convert_to_messages

    from skillstack.models import load_tokenizer
    from skillstack.skills.chat_model import to_chat_messages

    tokenizer = load_tokenizer(settings)
    messages = to_chat_messages(convert_to_messages(prompt), chat.system_prompt)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def rag_outputs(settings: Settings, retriever: Any, prompts: list[Prompt], *, progress: bool = False) -> list[Output]:
    """The rag route's answer (top-5 units, as settings.rag_answer says) to each prompt's last user turn; prompt tokens are not counted (0)."""
    from langchain_core.messages import convert_to_messages
    from tqdm import tqdm

    from skillstack.retrieval.answer import answer_question
    from skillstack.messages import content_text
    from skillstack.skills.runtime import chat_model

    model = chat_model(settings, "base", temperature=0.0)
    outputs = []
    for prompt in tqdm(prompts, desc="eval rag", unit="ex", disable=not progress):
        users = [m for m in convert_to_messages(prompt) if m.type == "human"]
        question = content_text(users[-1].content) if users else ""
        answer = answer_question(question, retriever.search(question, k=5), model, mode=settings.rag_answer,
                                 embedder=retriever.embedder)["answer"]
        outputs.append(Output(text=answer, parsed=None, prompt_tokens=0))
    return outputs


__all__ = ["CHUNK", "Output", "Prompt", "count_prompt_tokens", "generate_outputs", "rag_outputs"]
