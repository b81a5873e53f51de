"""Reinforcement fine-tuning with LoRA: sample completions, score them with a grader, update the adapter (TRL's GRPO).

Holds RFTConfig, the reward function built from a grader spec and what GRPO adds to the shared TRL
set-up; the graders are training/graders (the same engine `skillstack eval` uses), model, trainer,
resume, metrics and the skill folder trl_runs.py's. Registers itself as method "rft".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from skillstack.errors import ConfigError, TrainingError
from skillstack.messages import content_text
from skillstack.settings import Settings
from .config import Hyperparameters, TrainingConfig, setting
from .data.formats import REINFORCEMENT, has_images
from .methods import TrainJob, register_method
from .trl_runs import train_with_trl


@dataclass(kw_only=True)
class RFTConfig(TrainingConfig):
    """Reinforcement fine-tuning: sample completions, score them with a grader, update the adapter (GRPO)."""

    grader: dict[str, Any] = setting("Grader spec in OpenAI's grader JSON (string_check, text_similarity, python, multi, ...).",
                                     factory=dict)
    n_samples: int = setting("Completions sampled per prompt; their rewards are compared within the group.", 4, minimum=0)
    max_completion_tokens: int = setting("Tokens per sampled completion.", 64, minimum=0)
    temperature: float = setting("Sampling temperature for the completions.", 1.0, minimum=0)
    beta: float = setting("KL penalty towards the base model (0 skips the reference model).", 0.0, minimum=0)

    method = "rft"
    base_learning_rate = 2e-5


def prompt_rows(examples: list[dict[str, Any]], system_prompt: str = "", *, source: str = "dataset") -> list[dict[str, Any]]:
    """Reinforcement examples as GRPO rows: the prompt messages plus the whole example as JSON (what graders read as item)."""
    rows = []
    for line, example in enumerate(examples, start=1):
        if has_images(example):
            raise TrainingError(f"{source}:{line}: has image content, but the base model is text-only")
        prompt = [{"role": m["role"], "content": content_text(m.get("content"))} for m in example["messages"]]
        if system_prompt and prompt[0]["role"] != "system":
            prompt.insert(0, {"role": "system", "content": system_prompt})
        # One JSON column: reference fields differ in type between datasets and Arrow wants one type per column.
        rows.append({"prompt": prompt, "item_json": json.dumps(example, ensure_ascii=False)})
    return rows


def grader_reward(grader: Any) -> Callable[..., list[float]]:
    """A GRPO reward function scoring each completion with `grader.grade(sample, item)`."""

    def reward(prompts: list[Any], completions: list[Any], item_json: list[str], **_: Any) -> list[float]:
        scores = []
        for completion, raw_item in zip(completions, item_json):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            try:
                parsed = json.loads(text)
            except (json.JSONDecodeError, ValueError):
                parsed = None
            scores.append(float(grader.grade({"output_text": text, "output_json": parsed}, json.loads(raw_item))))
        return scores

    reward.__name__ = f"grader_{getattr(grader, 'name', 'reward')}"
    return reward


def train_rft(settings: Settings, job: TrainJob) -> Path:
    """LoRA GRPO of the base model rewarded by config.grader; returns the finished skill folder (resumes a killed run)."""
    from .graders import build_grader

    config = job.config
    if not config.grader:
        raise ConfigError("rft needs a grader: pass --grader FILE.json or set grader in the config")
    if config.n_samples < 2:
        raise ConfigError("rft's n_samples must be at least 2: rewards are compared within each prompt's group")
    grader = build_grader(config.grader, settings=settings)

    def arguments(hyper: Hyperparameters) -> dict[str, Any]:
        # GRPO counts completions per device batch: batch_size prompts times n_samples completions each.
        completions = hyper.batch_size * config.n_samples
        return {"per_device_train_batch_size": completions, "per_device_eval_batch_size": completions,
                "num_generations": config.n_samples, "max_completion_length": config.max_completion_tokens,
                "temperature": config.temperature, "beta": config.beta}

    return train_with_trl(settings, job, to_rows=prompt_rows, trainer="GRPO", arguments=arguments,
                          reward_funcs=[grader_reward(grader)])


register_method(name="rft", config_cls=RFTConfig, data_format=REINFORCEMENT, train=train_rft,
                help="Reinforcement fine-tuning on reinforcement JSONL, rewarded by a grader (--grader FILE).")

__all__ = ["RFTConfig", "grader_reward", "prompt_rows", "train_rft"]
