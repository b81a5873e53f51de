"""Running a TRL trainer (DPO, GRPO) the way skillstack runs its own loop.

Holds what the TRL-based methods share: their TrainingArguments from a skillstack config,
metrics.jsonl through a callback, resume from the newest checkpoint of the run folder, and
the finished skill folder. The methods themselves (dataset shape, trainer class) live in dpo.py and rft.py.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ..models import base_model_id
from ..settings import Settings
from .checkpoints import run_dir, run_fingerprint, save_adapter
from .config import Hyperparameters, TrainingConfig
from .metrics import MetricsLog
from .skill_writer import SkillSpec, file_sha256, finish_skill

# TRL/transformers log keys -> metrics.jsonl keys.
LOG_KEYS = {"loss": "train_loss", "eval_loss": "val_loss", "learning_rate": "learning_rate",
            "mean_token_accuracy": "token_accuracy", "rewards/accuracies": "reward_accuracy",
            "rewards/margins": "reward_margin", "reward": "reward", "reward_std": "reward_std", "kl": "kl"}


def trl_arguments(settings: Settings, config: TrainingConfig, hyper: Hyperparameters, folder: Path, *,
                  has_validation: bool, progress: bool) -> dict[str, Any]:
    """TrainingArguments fields shared by every TRL method, from the skillstack config."""
    eval_every = config.eval_every or max(1, hyper.total_steps // 10)
    return {
        "output_dir": str(folder), "per_device_train_batch_size": hyper.batch_size,
        "per_device_eval_batch_size": hyper.batch_size, "num_train_epochs": hyper.n_epochs,
        "max_steps": hyper.total_steps, "learning_rate": hyper.learning_rate, "lr_scheduler_type": "linear",
        "warmup_steps": int(hyper.total_steps * config.warmup_ratio), "weight_decay": config.weight_decay,
        "max_grad_norm": config.max_grad_norm, "seed": config.seed, "logging_steps": 1,
        "save_strategy": "steps" if config.save_every else "no", "save_steps": config.save_every or 500,
        "save_total_limit": 2, "eval_strategy": "steps" if has_validation else "no", "eval_steps": eval_every,
        "report_to": "none", "disable_tqdm": not progress, "use_cpu": settings.device == "cpu",
        "bf16": settings.device != "cpu", "gradient_checkpointing": False, "dataloader_num_workers": 0,
    }


def metrics_callback(log: MetricsLog) -> Any:
    """A TrainerCallback writing TRL's logs as metrics.jsonl rows (one per logged step)."""
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
            row = {ours: float(logs[theirs]) for theirs, ours in LOG_KEYS.items() if logs and theirs in logs}
            if row:
                log.append(step=state.global_step, epoch=round(float(state.epoch or 0), 4), **row)

    return MetricsCallback()


def run_trl_method(settings: Settings, spec: SkillSpec, *, method_config: TrainingConfig, hyper: Hyperparameters,
                   train_file: Path, validation_file: Path | None, output_dir: Path, n_examples: int,
                   build_trainer: Callable[[Path, Any], Any]) -> Path:
    """Train with the trainer `build_trainer(run_folder, metrics_callback)` returns, resuming a killed run; write the skill."""
    from transformers.trainer_utils import get_last_checkpoint

    fingerprint = run_fingerprint(train=file_sha256(train_file),
                                  validation=file_sha256(validation_file) if validation_file else None,
                                  config=method_config.to_dict(), spec=asdict(spec), base=base_model_id(settings),
                                  output=str(Path(output_dir).expanduser().resolve()))
    folder = run_dir(settings, spec.suffix, fingerprint)
    folder.mkdir(parents=True, exist_ok=True)
    log = MetricsLog(folder / "metrics.jsonl")
    trainer = build_trainer(folder, metrics_callback(log))
    last = get_last_checkpoint(str(folder))
    resumed_from = int(Path(last).name.split("-")[-1]) if last else 0
    log.truncate_after(resumed_from)
    trainer.train(resume_from_checkpoint=last)
    adapter = save_adapter(trainer.model, folder / "last")
    notes = [f"resumed from the checkpoint at step {resumed_from}"] if resumed_from else []
    skill = finish_skill(settings, spec, output_dir=Path(output_dir), adapter_dir=adapter, config=method_config,
                         hyperparameters=hyper, train_file=train_file, validation_file=validation_file,
                         n_examples=n_examples, metrics=log.rows(), notes=notes,
                         run={"resumed_from_step": resumed_from, "trainer": type(trainer).__name__})
    shutil.rmtree(folder, ignore_errors=True)
    return skill


__all__ = ["LOG_KEYS", "metrics_callback", "run_trl_method", "trl_arguments"]
