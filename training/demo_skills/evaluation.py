"""Eval cards of the demo skills: the skill against the base model on the skill's held-out set.

Holds batched generation through the skills runtime (one merged batch per condition), scoring
with each skill's own pure scorer, and the card's contents. The card is recorded the way
`skillstack eval` records its own (training/evaluate.py's record_eval: eval_card.json + EVAL.md,
"eval" and "promoted" in the manifest); it differs in holding several metrics per condition and
baselines with their own system prompt (the base model given the full style guide or rules),
which a single grader and a shared prompt cannot express.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skillstack.settings import Settings
from . import Baseline, DemoSkill

EVAL_OUTPUTS = "eval_outputs.jsonl"
SKILL_LABEL = "skill"


@dataclass(frozen=True, kw_only=True)
class Output:
    text: str
    parsed: Any
    prompt_tokens: int
    error: str | None = None


def generate_outputs(settings: Settings, model_name: str, items: list[dict[str, Any]], *, system_prompt: str | None = None,
                     json_schema: dict[str, Any] | None = None, max_tokens: int = 256) -> list[Output]:
    """Greedy answers of a skill (or "base") to each item's messages, sent concurrently so the runtime batches them.

    A JSON answer that fails its schema after the runtime's retries comes back as an Output with the error.
    """
    from skillstack.skills.runtime import chat_model

    overrides: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.0}
    if system_prompt is not None:
        overrides["system_prompt"] = system_prompt
    chat: Any = chat_model(settings, model_name, **overrides)
    model = chat.bind(json_schema=json_schema) if json_schema is not None else chat
    answers = model.batch([item["messages"] for item in items], config={"max_concurrency": 16}, return_exceptions=True)
    outputs = []
    for item, answer in zip(items, answers, strict=True):
        if isinstance(answer, Exception):
            # No usage comes back with a failure; the prompt still cost what the chat template makes of it.
            outputs.append(Output(text="", parsed=None, prompt_tokens=count_prompt_tokens(settings, chat, item["messages"]),
                                  error=f"{type(answer).__name__}: {answer}"))
            continue
        usage = answer.usage_metadata or {}
        outputs.append(Output(text=str(answer.content), parsed=answer.response_metadata.get("parsed"),
                              prompt_tokens=int(usage.get("input_tokens", 0))))
    return outputs


def count_prompt_tokens(settings: Settings, chat: Any, messages: list[dict[str, Any]]) -> int:
    """Tokens of the prompt `chat` (a skill chat model) sends for `messages`, as the runtime counts input_tokens."""
    from langchain_core.messages import convert_to_messages

    from skillstack.models import load_tokenizer
    from skillstack.skills.chat_model import to_chat_messages

    tokenizer = load_tokenizer(settings)
    prompt = to_chat_messages(convert_to_messages(messages), chat.system_prompt)
    text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _condition(skill: DemoSkill, items: list[dict[str, Any]], outputs: list[Output], *, label: str, model: str) -> dict[str, Any]:
    scores = [skill.score(item, out.text, out.parsed) for item, out in zip(items, outputs, strict=True)]
    metrics = {key: round(statistics.fmean(s[key] for s in scores), 4) for key in scores[0]}
    return {"label": label, "model": model, "metrics": metrics,
            "prompt_tokens_mean": round(statistics.fmean(o.prompt_tokens for o in outputs), 1),
            "errors": sum(o.error is not None for o in outputs)}


def _baseline_outputs(settings: Settings, skill: DemoSkill, baseline: Baseline, items: list[dict[str, Any]]) -> list[Output]:
    schema = skill.schema if baseline.constrained else None
    return generate_outputs(settings, "base", items, system_prompt=baseline.system_prompt, json_schema=schema,
                            max_tokens=skill.max_tokens)


def evaluate_demo_skill(settings: Settings, skill: DemoSkill, folder: Path, *, items: list[dict[str, Any]] | None = None
                        ) -> dict[str, Any]:
    """Score the skill and each baseline on the held-out set; write the eval card into folder and return it."""
    from skillstack.training.data.jsonl import write_jsonl
    from skillstack.training.evaluate import record_eval

    items = items if items is not None else [json.loads(line) for line in (folder / "heldout.jsonl").read_text().splitlines()]
    runs = {SKILL_LABEL: generate_outputs(settings, skill.name, items, max_tokens=skill.max_tokens)}
    runs |= {b.label: _baseline_outputs(settings, skill, b, items) for b in skill.baselines}
    conditions = [_condition(skill, items, runs[SKILL_LABEL], label=SKILL_LABEL, model=skill.name)]
    conditions += [_condition(skill, items, runs[b.label], label=b.label, model="base") for b in skill.baselines]
    skill_score = conditions[0]["metrics"][skill.primary]
    promoted = all(skill_score > c["metrics"][skill.primary] for c in conditions[1:])
    card = {"version": 1, "skill": skill.name, "data": "heldout.jsonl", "items": len(items), "primary_metric": skill.primary,
            "conditions": conditions, "promoted": promoted,
            "evaluator": "skillstack.training.demo_skills.evaluation (greedy decoding, each skill's own scorer)",
            "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_jsonl(folder / EVAL_OUTPUTS, ({"item": i, "condition": label, "output": out.text, "error": out.error}
                                        for label, outs in runs.items() for i, out in enumerate(outs)))
    summary = {c["label"]: c["metrics"] | {"prompt_tokens_mean": c["prompt_tokens_mean"]} for c in conditions}
    record_eval(folder, card, eval_report(card), summary=summary, promoted=promoted)
    return card


def eval_report(card: dict[str, Any]) -> str:
    """EVAL.md: one row per condition, one column per metric, and the skill's prompt-token saving."""
    conditions = card["conditions"]
    keys = [k for k in conditions[0]["metrics"] if not k.startswith("field:")]
    lines = [f"# Eval card: {card['skill']}", "",
             f"{card['items']} held-out items (`{card['data']}`), greedy decoding. Primary metric: "
             f"`{card['primary_metric']}`; promoted: **{card['promoted']}**.", "",
             "| condition | prompt tokens | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for c in conditions:
        lines.append(f"| {c['label']} | {c['prompt_tokens_mean']} | " + " | ".join(f"{c['metrics'][k]:.3f}" for k in keys) + " |")
    skill_tokens = conditions[0]["prompt_tokens_mean"]
    for c in conditions[1:]:
        if skill_tokens and c["prompt_tokens_mean"]:
            lines.append("")
            lines.append(f"Prompt tokens: the skill uses {skill_tokens / c['prompt_tokens_mean']:.2f}x the prompt of "
                         f"'{c['label']}' ({c['prompt_tokens_mean'] - skill_tokens:+.0f} tokens saved per request).")
    lines += ["", f"Per-item outputs: `{EVAL_OUTPUTS}`. Evaluator: {card['evaluator']}."]
    return "\n".join(lines) + "\n"


__all__ = ["Output", "count_prompt_tokens", "evaluate_demo_skill", "eval_report", "generate_outputs"]
