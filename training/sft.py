"""Supervised fine-tuning with LoRA in a lean loop of its own: chat JSONL in, skill folder out.

Holds the SFT loop (assistant-only loss, length-grouped dynamic batches, validation loss,
early stopping, checkpoints and resume, data-parallel over torchrun workers) and `train_sft`;
data preparation is encoding.py's, on-disk state checkpoints.py's, the folder skill_writer.py's,
what the ranks share distributed.py's. Registers itself as method "sft".

Why not TRL's SFTTrainer here: it pads to the longest example of shuffled batches,
checkpoints activations by default and computes logits for every position; this loop
batches similar lengths, keeps activations, and runs the LM head only where loss is taken.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from skillstack.errors import TrainingError
from skillstack.models import load_tokenizer
from skillstack.settings import Settings
from .checkpoints import LoopState, latest_checkpoint, load_checkpoint, prepare_run_dir, save_adapter, save_checkpoint
from .config import Hyperparameters, TrainingConfig, resolve_hyperparameters
from .data.formats import CHAT
from .encoding import EncodedExample, collate, encode_examples, length_grouped_batches
from .inputs import load_job_examples
from .methods import TrainJob, register_method
from .metrics import MetricsLog, progress_bar
from .skill_writer import finish_skill

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class SFTConfig(TrainingConfig):
    """Supervised fine-tuning: the loss covers assistant tokens only (those with weight 1)."""

    method = "sft"
    base_learning_rate = 1e-3


def batch_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int, int]:
    """Mean cross-entropy over target tokens, with the LM head applied only at those positions.

    Returns (loss, correct next-token predictions, target tokens).
    """
    import torch.nn.functional as F

    causal_lm = model.get_base_model()
    hidden = causal_lm.base_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                  use_cache=False).last_hidden_state
    where = batch["target_mask"][:, 1:]
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][where]).float()
    targets = batch["input_ids"][:, 1:][where]
    loss = F.cross_entropy(logits, targets)
    correct = int((logits.argmax(-1) == targets).sum())
    return loss, correct, int(targets.numel())


def evaluate(model: Any, examples: list[EncodedExample], *, batch_size: int, pad_id: int, device: str) -> tuple[float, float]:
    """Validation (loss, token accuracy) over all target tokens, batches sorted by length."""
    import torch

    order = sorted(range(len(examples)), key=lambda i: len(examples[i]))
    total_loss, correct, count = 0.0, 0, 0
    model.eval()
    with torch.no_grad():
        for begin in range(0, len(order), batch_size):
            batch = collate([examples[i] for i in order[begin: begin + batch_size]], pad_id)
            loss, right, n = batch_loss(model, {k: v.to(device) for k, v in batch.items()})
            total_loss, correct, count = total_loss + loss.item() * n, correct + right, count + n
    model.train()
    return total_loss / max(count, 1), correct / max(count, 1)


def _scheduler(optimizer: Any, hyper: Hyperparameters, warmup_ratio: float) -> Any:
    """Linear warm-up then linear decay to zero over the run's steps."""
    from torch.optim.lr_scheduler import LambdaLR

    warmup = max(1, math.ceil(hyper.total_steps * warmup_ratio)) if warmup_ratio > 0 else 0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (hyper.total_steps - step) / max(1, hyper.total_steps - warmup))

    return LambdaLR(optimizer, factor)


def run_sft_loop(model: Any, *, train: list[EncodedExample], validation: list[EncodedExample], config: SFTConfig,
                 hyper: Hyperparameters, folder: Path, pad_id: int, device: str, progress: bool = True) -> dict[str, Any]:
    """Train `model`'s adapter in place, resuming from the newest checkpoint in `folder`.

    Returns {"adapter": path of the adapter to ship (best by validation loss, else the last),
    "resumed_from_step": int, "stopped_early": bool}.
    """
    import torch

    from .distributed import is_main, my_share, sum_across, sum_gradients

    main = is_main()  # with --nproc, rank 0 alone writes metrics, checkpoints and adapters
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=hyper.learning_rate, weight_decay=config.weight_decay)
    scheduler = _scheduler(optimizer, hyper, config.warmup_ratio)
    metrics = MetricsLog(folder / "metrics.jsonl")
    state, resumed_from = LoopState(), 0
    found = latest_checkpoint(folder)
    if found:
        state = load_checkpoint(found[1], model, optimizer, scheduler)
        resumed_from = state.step
    if main:
        metrics.truncate_after(state.step)
    eval_every = config.eval_every or max(1, hyper.total_steps // 10)
    lengths = [len(e) for e in train]
    bar = progress_bar(hyper.total_steps, initial=state.step, desc=f"sft {folder.name}", enabled=progress and main)
    stopped_early = False
    model.train()
    started, tokens_at_start = time.perf_counter(), state.tokens
    while state.step < hyper.total_steps and not stopped_early and state.epoch < hyper.n_epochs:
        batches = length_grouped_batches(lengths, hyper.batch_size, seed=config.seed, epoch=state.epoch)
        for indices in batches[state.batches_done:]:
            mine = my_share(indices)  # the whole batch in one process
            loss, mine_count, loss_sum, correct, tokens = None, 0, 0.0, 0, 0
            if mine:
                batch = {k: v.to(device) for k, v in collate([train[i] for i in mine], pad_id).items()}
                loss, correct, mine_count = batch_loss(model, batch)
                loss_sum, tokens = loss.item() * mine_count, int(batch["attention_mask"].sum())
            loss_sum, correct, count, tokens = sum_across([loss_sum, correct, mine_count, tokens])
            if loss is not None:
                # Weighted by this rank's share of the batch's target tokens, the ranks' gradients sum to the
                # gradient of the whole batch's mean loss: the single-process step.
                (loss * (mine_count / count)).backward()
            sum_gradients(params)
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            learning_rate = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.batches_done += 1
            state.tokens += int(tokens)
            elapsed = time.perf_counter() - started
            row: dict[str, Any] = {"step": state.step, "total_steps": hyper.total_steps,
                                   "epoch": round(state.epoch + state.batches_done / len(batches), 4),
                                   "train_loss": loss_sum / max(count, 1), "token_accuracy": correct / max(count, 1),
                                   "learning_rate": learning_rate, "tokens": state.tokens,
                                   "tokens_per_s": (state.tokens - tokens_at_start) / max(elapsed, 1e-9)}
            if validation and (state.step % eval_every == 0 or state.step == hyper.total_steps):
                row["val_loss"], row["val_token_accuracy"] = evaluate(model, validation, batch_size=hyper.batch_size,
                                                                      pad_id=pad_id, device=device)
                if state.best_val_loss is None or row["val_loss"] < state.best_val_loss:
                    state.best_val_loss, state.bad_evals = row["val_loss"], 0
                    if main:
                        save_adapter(model, folder / "best")
                else:
                    state.bad_evals += 1
                    stopped_early = bool(config.early_stopping_patience) and state.bad_evals >= config.early_stopping_patience
            if main:
                metrics.append(**row)
            bar.update(1)
            bar.set_postfix(loss=f"{row['train_loss']:.3f}", **({"val": f"{row['val_loss']:.3f}"} if "val_loss" in row else {}))
            if main and config.save_every and state.step % config.save_every == 0 and state.step < hyper.total_steps:
                save_checkpoint(folder, model, optimizer, scheduler, state)
            if state.step >= hyper.total_steps or stopped_early:
                break
        else:
            state.epoch, state.batches_done = state.epoch + 1, 0
    bar.close()
    last = save_adapter(model, folder / "last") if main else folder / "last"
    best = folder / "best"
    return {"adapter": best if validation and best.is_dir() else last, "resumed_from_step": resumed_from,
            "stopped_early": stopped_early, "steps": state.step}


def train_sft(settings: Settings, job: TrainJob) -> Path:
    """LoRA SFT of the base model on an OpenAI chat JSONL file; returns the finished skill folder.

    Re-running the same job after a crash resumes from the last checkpoint (see checkpoints.py).
    The skill's system prompt is prepended to examples that have none, as the runtime will send it.
    """
    import torch

    config, spec, train_file, validation_file = job.config, job.skill, job.train_file, job.validation_file
    examples, val_examples = load_job_examples(job)
    system_prompt = spec.system_prompt
    tokenizer = load_tokenizer(settings)
    train, skipped = encode_examples(tokenizer, examples, max_seq_len=config.max_seq_len, system_prompt=system_prompt,
                                     source=str(train_file))
    validation, _ = encode_examples(tokenizer, val_examples, max_seq_len=config.max_seq_len,
                                    system_prompt=system_prompt, source=str(validation_file))
    if not train:
        raise TrainingError(f"{train_file}: no example keeps an assistant token within max_seq_len={config.max_seq_len}")
    hyper = resolve_hyperparameters(config, len(train))
    folder = prepare_run_dir(settings, suffix=spec.suffix, parts={"config": config.to_dict(), "spec": asdict(spec)},
                             train_file=train_file, validation_file=validation_file, output_dir=job.output_dir)
    torch.manual_seed(config.seed)
    from .distributed import is_main, process_group, rank_settings
    from .lora import load_lora_model, training_threads

    settings = rank_settings(settings)
    with process_group(settings.device), training_threads(config) as threads:
        log.info("training with %d torch thread(s)", threads)
        model, _ = load_lora_model(settings, config)
        result = run_sft_loop(model, train=train, validation=validation, config=config, hyper=hyper, folder=folder,
                              pad_id=tokenizer.pad_token_id, device=settings.device, progress=job.progress)
    if not is_main():  # rank 0 writes the one skill folder
        return Path(job.output_dir)
    notes = [f"{skipped} example(s) skipped: no assistant token within max_seq_len"] if skipped else []
    if result["resumed_from_step"]:
        log.info("resumed from the checkpoint at step %d", result["resumed_from_step"])
        notes.append(f"resumed from the checkpoint at step {result['resumed_from_step']}")
    if result["stopped_early"]:
        notes.append(f"stopped early at step {result['steps']}: validation loss stopped improving")
    skill = finish_skill(settings, spec, output_dir=job.output_dir, adapter_dir=result["adapter"], config=config,
                         hyperparameters=hyper, train_file=train_file, validation_file=validation_file,
                         n_examples=len(train), metrics=MetricsLog(folder / "metrics.jsonl").rows(), notes=notes,
                         run={"resumed_from_step": result["resumed_from_step"], "stopped_early": result["stopped_early"]})
    shutil.rmtree(folder, ignore_errors=True)
    return skill


register_method(name="sft", config_cls=SFTConfig, data_format=CHAT, train=train_sft,
                help="Supervised fine-tuning on OpenAI chat JSONL (loss on assistant tokens).")

__all__ = ["SFTConfig", "batch_loss", "evaluate", "run_sft_loop", "train_sft"]
