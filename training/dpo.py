"""Direct preference optimisation with LoRA: OpenAI DPO JSONL in, skill folder out (TRL's DPOTrainer).

Holds DPOConfig, the DPO dataset shaping and what DPO adds to the shared TRL set-up (trl_runs.py:
model, trainer, resume, metrics, skill folder); registers itself as method "dpo".
The reference model is the base itself (the adapter switched off), so no second copy is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstack.errors import TrainingError
from skillstack.settings import Settings
from .config import TrainingConfig, setting
from .data.formats import PREFERENCE, has_images
from .methods import TrainJob, register_method
from .trl_runs import train_with_trl


@dataclass(kw_only=True)
class DPOConfig(TrainingConfig):
    """Direct preference optimisation from preferred / non-preferred pairs."""

    beta: float = setting("DPO temperature: how far the adapter may move from the base model's preferences.", 0.1, minimum=0)

    method = "dpo"
    base_learning_rate = 5e-5


def preference_rows(examples: list[dict[str, Any]], system_prompt: str = "", *, source: str = "dataset") -> list[dict[str, Any]]:
    """OpenAI DPO examples as TRL conversational preference rows, with the skill's system prompt where none is given."""
    from .data.convert import openai_to_trl

    rows = []
    for line, example in enumerate(examples, start=1):
        if has_images(example):
            raise TrainingError(f"{source}:{line}: has image content, but the base model is text-only")
        row = openai_to_trl(example)
        if system_prompt and (not row["prompt"] or row["prompt"][0].get("role") != "system"):
            row["prompt"] = [{"role": "system", "content": system_prompt}, *row["prompt"]]
        rows.append(row)
    return rows


def train_dpo(settings: Settings, job: TrainJob) -> Path:
    """LoRA DPO of the base model on preference pairs; returns the finished skill folder (resumes a killed run)."""
    config = job.config
    return train_with_trl(settings, job, to_rows=preference_rows, trainer="DPO",
                          arguments=lambda hyper: {"beta": config.beta, "max_length": config.max_seq_len})


register_method(name="dpo", config_cls=DPOConfig, data_format=PREFERENCE, train=train_dpo,
                help="Direct preference optimisation on OpenAI DPO JSONL (preferred / non-preferred outputs).")

__all__ = ["DPOConfig", "preference_rows", "train_dpo"]
