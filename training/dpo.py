"""Direct preference optimisation with LoRA: OpenAI DPO JSONL in, skill folder out (TRL's DPOTrainer).

Holds the DPO dataset shaping and trainer set-up; resume, metrics and the skill folder are trl_runs.py's.
The reference model is the base itself (the adapter switched off), so no second copy is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillstack.errors import TrainingError
from skillstack.settings import Settings
from .config import DPOConfig, Hyperparameters
from .data.formats import has_images
from .skill_writer import SkillSpec
from .trl_runs import train_with_trl, trl_arguments


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


def train_dpo(settings: Settings, train_file: Path, *, output_dir: Path, config: DPOConfig,
              validation_file: Path | None = None, suffix: str, skill_kind: str = "other", system_prompt: str = "",
              routing_examples: list[str] | None = None, output: str = "text", schema_file: Path | None = None,
              description: str = "", progress: bool = True) -> Path:
    """LoRA DPO of the base model on preference pairs; returns the finished skill folder (resumes a killed run)."""
    spec = SkillSpec(suffix=suffix, kind=skill_kind, description=description, system_prompt=system_prompt,
                     routing_examples=list(routing_examples or []), output=output, schema_file=schema_file)

    def build_trainer(folder: Path, callback: Any, hyper: Hyperparameters, train_rows: list, val_rows: list) -> Any:
        import trl
        from datasets import Dataset

        from .lora import load_lora_model

        model, tokenizer = load_lora_model(settings, config)
        args = trl.DPOConfig(**trl_arguments(settings, config, hyper, folder, has_validation=bool(val_rows),
                                             progress=progress), beta=config.beta, max_length=config.max_seq_len)
        return trl.DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(train_rows),
                              eval_dataset=Dataset.from_list(val_rows) if val_rows else None,
                              processing_class=tokenizer, callbacks=[callback])

    return train_with_trl(settings, spec, config=config, train_file=train_file, validation_file=validation_file,
                          output_dir=output_dir, to_rows=preference_rows, build_trainer=build_trainer)


__all__ = ["DPOConfig", "preference_rows", "train_dpo"]
