"""Reinforcement fine-tuning with LoRA: sample completions, score them with a grader, update the adapter (TRL's GRPO).

Holds the reward function built from a grader spec and the GRPO set-up; the graders are
training/graders (the same engine `skillstack eval` uses), resume, metrics and the skill folder trl_runs.py's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from skillstack.errors import ConfigError, TrainingError
from skillstack.messages import content_text
from skillstack.settings import Settings
from .config import Hyperparameters, RFTConfig
from .data.formats import has_images
from .skill_writer import SkillSpec
from .trl_runs import train_with_trl, trl_arguments


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


def train_rft(settings: Settings, train_file: Path, *, output_dir: Path, config: RFTConfig,
              validation_file: Path | None = None, suffix: str, skill_kind: str = "other", system_prompt: str = "",
              routing_examples: list[str] | None = None, output: str = "text", schema_file: Path | None = None,
              description: str = "", progress: bool = True) -> Path:
    """LoRA GRPO of the base model rewarded by config.grader; returns the finished skill folder (resumes a killed run)."""
    from .graders import build_grader

    if not config.grader:
        raise ConfigError("rft needs a grader: pass --grader FILE.json or set grader in the config")
    if config.n_samples < 2:
        raise ConfigError("rft's n_samples must be at least 2: rewards are compared within each prompt's group")
    grader = build_grader(config.grader, settings=settings)
    spec = SkillSpec(suffix=suffix, kind=skill_kind, description=description, system_prompt=system_prompt,
                     routing_examples=list(routing_examples or []), output=output, schema_file=schema_file)

    def build_trainer(folder: Path, callback: Any, hyper: Hyperparameters, train_rows: list, val_rows: list) -> Any:
        import trl
        from datasets import Dataset

        from .lora import load_lora_model

        model, tokenizer = load_lora_model(settings, config)
        common = trl_arguments(settings, config, hyper, folder, has_validation=bool(val_rows), progress=progress)
        # GRPO counts completions per device batch: batch_size prompts times n_samples completions each.
        common["per_device_train_batch_size"] = common["per_device_eval_batch_size"] = hyper.batch_size * config.n_samples
        args = trl.GRPOConfig(**common, num_generations=config.n_samples, max_completion_length=config.max_completion_tokens,
                              temperature=config.temperature, beta=config.beta)
        return trl.GRPOTrainer(model=model, reward_funcs=[grader_reward(grader)], args=args,
                               train_dataset=Dataset.from_list(train_rows),
                               eval_dataset=Dataset.from_list(val_rows) if val_rows else None,
                               processing_class=tokenizer, callbacks=[callback])

    return train_with_trl(settings, spec, config=config, train_file=train_file, validation_file=validation_file,
                          output_dir=output_dir, to_rows=prompt_rows, build_trainer=build_trainer)


__all__ = ["RFTConfig", "grader_reward", "prompt_rows", "train_rft"]
