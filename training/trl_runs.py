"""Running a TRL trainer (DPO, GRPO) the way skillstack runs its own loop.

Holds what the TRL-based methods share: validated rows, the LoRA model, TrainingArguments from a
skillstack config, the TRL trainer itself, metrics.jsonl through a callback, resume from the newest
checkpoint of the run folder, and the finished skill folder. What differs per method (row shape,
TRL class pair, extra arguments) is given by dpo.py and rft.py.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from skillstack.settings import Settings
from .checkpoints import prepare_run_dir, save_adapter
from .config import Hyperparameters, TrainingConfig, resolve_hyperparameters
from .inputs import load_job_examples
from .lora import training_threads
from .methods import TrainJob
from .metrics import MetricsLog
from .skill_writer import finish_skill

# TRL/transformers log keys -> metrics.jsonl keys.
LOG_KEYS = {"loss": "train_loss", "eval_loss": "val_loss", "learning_rate": "learning_rate",
            "mean_token_accuracy": "token_accuracy", "rewards/accuracies": "reward_accuracy",
            "rewards/margins": "reward_margin", "reward": "reward", "reward_std": "reward_std", "kl": "kl"}

# to_rows(examples, system_prompt, source=path) -> the rows the TRL trainer reads
RowsFn = Callable[..., list[dict[str, Any]]]
# arguments(hyperparameters) -> the method's TRL config fields, over (and replacing) trl_arguments'
ArgumentsFn = Callable[[Hyperparameters], dict[str, Any]]


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
        "bf16": settings.device != "cpu", "gradient_checkpointing": config.gradient_checkpointing,
        "dataloader_num_workers": 0,
    }


def metrics_callback(log: MetricsLog) -> Any:
    """A TrainerCallback writing TRL's logs as metrics.jsonl rows (one per logged step)."""
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
            row = {ours: float(logs[theirs]) for theirs, ours in LOG_KEYS.items() if logs and theirs in logs}
            if row:
                log.append(step=state.global_step, total_steps=state.max_steps, epoch=round(float(state.epoch or 0), 4), **row)

    return MetricsCallback()


def train_with_trl(settings: Settings, job: TrainJob, *, to_rows: RowsFn, trainer: str, arguments: ArgumentsFn,
                   **trainer_kwargs: Any) -> Path:
    """Train `job` with TRL's `<trainer>Trainer` configured by `<trainer>Config` and write the skill folder.

    The data is validated and shaped by `to_rows`; `arguments(hyper)` adds the method's own config
    fields; `trainer_kwargs` go to the trainer (GRPO's reward_funcs). A killed run resumes from its
    newest checkpoint.
    """
    import trl
    from datasets import Dataset
    from transformers.trainer_utils import get_last_checkpoint

    from .lora import load_lora_model

    config, spec = job.config, job.skill
    examples, val_examples = load_job_examples(job)
    train_rows = to_rows(examples, spec.system_prompt, source=str(job.train_file))
    val_rows = to_rows(val_examples, spec.system_prompt, source=str(job.validation_file)) if job.validation_file else []
    hyper = resolve_hyperparameters(config, len(train_rows))
    folder = prepare_run_dir(settings, suffix=spec.suffix, parts={"config": config.to_dict(), "spec": asdict(spec)},
                             train_file=job.train_file, validation_file=job.validation_file, output_dir=job.output_dir)
    log = MetricsLog(folder / "metrics.jsonl")
    with training_threads(config):
        model, tokenizer = load_lora_model(settings, config)
        args = getattr(trl, f"{trainer}Config")(**{**trl_arguments(settings, config, hyper, folder,
                                                                      has_validation=bool(val_rows), progress=job.progress),
                                                   **arguments(hyper)})
        run = getattr(trl, f"{trainer}Trainer")(model=model, args=args, train_dataset=Dataset.from_list(train_rows),
                                                eval_dataset=Dataset.from_list(val_rows) if val_rows else None,
                                                processing_class=tokenizer, callbacks=[metrics_callback(log)],
                                                **trainer_kwargs)
        last = get_last_checkpoint(str(folder))
        resumed_from = int(Path(last).name.split("-")[-1]) if last else 0
        log.truncate_after(resumed_from)
        # The trainer writes its log dicts to stdout (tqdm.write, PrinterCallback): progress, which belongs on
        # stderr, so that stdout carries only a command's own output (`--json`).
        with contextlib.redirect_stdout(sys.stderr):
            run.train(resume_from_checkpoint=last)
        adapter = save_adapter(run.model, folder / "last")
    notes = [f"resumed from the checkpoint at step {resumed_from}"] if resumed_from else []
    skill = finish_skill(settings, spec, output_dir=job.output_dir, adapter_dir=adapter, config=config,
                         hyperparameters=hyper, train_file=job.train_file, validation_file=job.validation_file,
                         n_examples=len(train_rows), metrics=log.rows(), notes=notes,
                         run={"resumed_from_step": resumed_from, "trainer": type(run).__name__})
    shutil.rmtree(folder, ignore_errors=True)
    return skill


__all__ = ["LOG_KEYS", "metrics_callback", "train_with_trl", "trl_arguments"]
