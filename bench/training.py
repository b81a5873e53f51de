"""Training throughput: skillstack's LoRA SFT loop versus TRL's SFTTrainer, with its defaults and with bf16 off.

Same run, same base model (the embedded SmolLM2-135M-Instruct), same data (real customer messages
and agent replies from the customer-support corpus, chat format), same LoRA config (r=8, alpha=16,
dropout 0.05, all linear layers), batch size, learning rate, max length and epochs. TRL gets its
defaults otherwise (use_cpu=True is the one switch it needs to start on a CPU), once as they are and once
with bf16=False, the fair baseline: float32, like skillstack (the section says whether the CPU has native
bf16 instructions, which decide how fast TRL's default bf16 autocast is). Each trainer runs in
its own process, so peak RSS is its own. tokens/s counts the non-padding tokens of the epoch
divided by the training time (model loading excluded for both).
Writes the `training` section of bench/RESULTS.md.

Usage: .venv/bin/python bench/training.py [--examples 48] [--max-len 192] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

# bench/datasets.py would shadow Hugging Face `datasets` (which TRL imports) for a script run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("SKILLSTACK_CORPORA") or REPO.parent / "shared" / "corpora")  # the Makefile sets it
CORPUS = CORPORA / "customer-support" / "bitext_customer_support.csv"
SECTION = "training"
LORA = {"lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": "all-linear"}
LEARNING_RATE = 1e-3


def build_dataset(path: Path, examples: int, seed: int = 0) -> None:
    """Chat examples: a real customer message and the corpus's agent reply (varied lengths, as real data has)."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(seed).shuffle(rows)
    lines = [json.dumps({"messages": [{"role": "system", "content": "You are a helpful customer-support agent."},
                                      {"role": "user", "content": r["instruction"]},
                                      {"role": "assistant", "content": r["response"]}]}) for r in rows[:examples]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def epoch_tokens(settings, data: Path, max_len: int) -> int:
    """Non-padding tokens in one epoch, as both trainers see them (chat template, cut at max_len)."""
    from skillstack.models import load_tokenizer

    tokenizer = load_tokenizer(settings)
    total = 0
    for line in data.read_text(encoding="utf-8").splitlines():
        ids = tokenizer.apply_chat_template(json.loads(line)["messages"], tokenize=True)
        ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
        total += min(len(ids), max_len)
    return total


def run_skillstack(settings, data: Path, out: Path, args: argparse.Namespace) -> float:
    from skillstack.training.metrics import read_metrics
    from skillstack.training.methods import TrainJob
    from skillstack.training.sft import SFTConfig, train_sft
    from skillstack.training.skill_writer import SkillSpec

    config = SFTConfig(n_epochs=1, batch_size=args.batch_size, learning_rate_multiplier=LEARNING_RATE / 1e-3,
                       max_seq_len=args.max_len, save_every=0, seed=0, num_threads=args.threads, **LORA)
    folder = train_sft(settings, TrainJob(train_file=data, output_dir=out / "skill", config=config,
                                          skill=SkillSpec(suffix="bench"), progress=False))
    rows = read_metrics(folder / "metrics.jsonl")
    return rows[-1]["tokens"] / rows[-1]["tokens_per_s"]  # the loop's own training seconds


def run_trl(settings, data: Path, out: Path, args: argparse.Namespace, *, bf16: bool) -> float:
    import trl
    from datasets import Dataset
    from peft import LoraConfig

    from skillstack.models import base_model_source

    source, _ = base_model_source(settings)
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    config = trl.SFTConfig(output_dir=str(out / "trl"), use_cpu=True, per_device_train_batch_size=args.batch_size,
                           num_train_epochs=1, learning_rate=LEARNING_RATE, max_length=args.max_len, seed=0,
                           report_to="none", save_strategy="no", **({} if bf16 else {"bf16": False}))
    lora = LoraConfig(r=LORA["lora_r"], lora_alpha=LORA["lora_alpha"], lora_dropout=LORA["lora_dropout"],
                      target_modules=LORA["target_modules"], task_type="CAUSAL_LM")
    trainer = trl.SFTTrainer(model=source, args=config, train_dataset=Dataset.from_list(rows), peft_config=lora)
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started


def bench_settings(work: Path):
    """A throw-away home for the runs, sharing the user's model cache (the converted base model)."""
    from skillstack.settings import load_settings

    return load_settings(work / "home", cache=str(load_settings().cache_dir))


def child(which: str, data: Path, out: Path, args: argparse.Namespace) -> None:
    """One trainer in this process, on args.threads torch threads; prints its timings and peak RSS as JSON.

    "cpu" is this process's CPU seconds (user + system) from building the trainer to the end of training
    (model load and tokenization included for both): unlike wall time it barely moves when other jobs
    load the machine, so the ratios use it.
    """
    import torch

    torch.set_num_threads(args.threads)
    settings = bench_settings(out)
    before = _cpu_seconds()
    if which == "skillstack":
        seconds = run_skillstack(settings, data, out, args)
    else:
        seconds = run_trl(settings, data, out, args, bf16=which == "trl")
    cpu = _cpu_seconds() - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak, "threads": torch.get_num_threads()}))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--max-len", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for both trainers (0: skillstack's auto rule, one per idle core, decided once)")
    parser.add_argument("--child", choices=("skillstack", "trl", "trl-fp32"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.examples < 10:
        parser.error("--examples must be at least 10 (the dataset validator refuses fewer)")
    if args.child:
        child(args.child, args.dir / "train.jsonl", args.dir, args)
        return 0

    if not args.threads:
        import torch

        from skillstack.training.config import auto_threads

        args.threads = auto_threads(os.cpu_count() or 1, os.getloadavg()[0], torch.get_num_threads())
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        work = Path(tmp)
        build_dataset(work / "train.jsonl", args.examples)
        tokens = epoch_tokens(bench_settings(work), work / "train.jsonl", args.max_len)
        results = {}
        for which in ("trl", "trl-fp32", "skillstack"):
            command = [sys.executable, __file__, "--child", which, "--dir", str(work), "--examples", str(args.examples),
                       "--max-len", str(args.max_len), "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            results[which] = json.loads(done.stdout.strip().splitlines()[-1])
            print(which, results[which], file=sys.stderr)

    def row(name: str, r: dict) -> str:
        return (f"| {name} | {r['seconds']:.1f} | {tokens / r['seconds']:.1f} | {r['cpu']:.1f} | "
                f"{results['trl-fp32']['cpu'] / r['cpu']:.2f}x | {results['trl']['cpu'] / r['cpu']:.2f}x | "
                f"{r['peak_rss_mb']:.0f} |")

    fair = results["trl-fp32"]["cpu"] / results["skillstack"]["cpu"]

    body = "\n".join([
        "## LoRA SFT throughput (bench/training.py)",
        "",
        f"SmolLM2-135M-Instruct (float32, CPU, {args.threads} torch thread(s) for both trainers), {args.examples} customer-support "
        f"chat examples ({tokens:,} tokens, max length {args.max_len}), one epoch, batch size {args.batch_size}, "
        "LoRA r=8 alpha=16 dropout 0.05 on all linear layers, learning rate 1e-3. Baselines: TRL "
        f"{_version('trl')} SFTTrainer on the same model, data and LoRA config, in the same run, with its defaults "
        "(gradient checkpointing on, bf16 autocast, loss and logits on every token, batches padded to their longest "
        "example) and with only bf16 turned off (the fair baseline: float32 like skillstack). CPU bf16 instructions: "
        f"{_bf16_flags()}. Shared 2-CPU machine, loaded by other engineers' jobs and a "
        f"training run (load average {os.getloadavg()[0]:.1f} at the end): absolute numbers move with the load, the "
        "ratios less so. The speed ratios are of CPU seconds (user + system, from building the trainer to the end of "
        "training, model load and tokenization included), which other jobs' load barely moves; wall time is beside them.",
        "",
        "| trainer | train seconds (wall) | tokens/s (wall) | CPU seconds | speed vs TRL bf16 off (fair baseline) | "
        "speed vs TRL defaults | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
        row("TRL SFTTrainer, bf16 off (fair baseline)", results["trl-fp32"]),
        row("TRL SFTTrainer, defaults", results["trl"]),
        row("skillstack train_sft", results["skillstack"]),
        "",
        f"Goal: >= 1.5x the fair baseline: {'met' if fair >= 1.5 else 'NOT met'} ({fair:.2f}x). Output check: every "
        "trainer trains the same LoRA config on the same tokens (counted once above); the loss curves are not "
        "compared, as TRL averages its loss over every token and skillstack over assistant tokens only.",
        "",
        "skillstack's levers: batches grouped by length with dynamic padding, no activation checkpointing, "
        "float32 matmuls (no bf16 emulation on CPUs without native bf16), the LM head applied only at "
        "assistant-token positions. Both trainers get the same thread count here, so the ratio leaves out "
        "skillstack's thread rule (num_threads 0 = one thread per idle core), which matters more than all "
        "of these on a busy machine: on this 2-core machine at load ~11, one forward pass of the base model "
        "(2 x 48 tokens) took 4.3 s with 1 thread and 54.5 s with torch's default 2 threads.",
    ])
    write_section(SECTION, body)
    print(body)
    return 0


def _bf16_flags() -> str:
    """The CPU's native bf16 instruction sets (Linux /proc/cpuinfo), or why they are unknown."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text(encoding="utf-8").split())
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    native = sorted(flags & {"avx512_bf16", "amx_bf16"})
    return ", ".join(native) if native else "none (bf16 is emulated)"


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.exit(main())
