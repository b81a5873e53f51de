"""Load test of `skillstack serve`: concurrent openai-SDK clients on loopback against the real server process.

Baseline in the same run: the same requests against the older 5 ms gather batcher (local_batching = "gather").
Then the continuous server again, with a fine-tuning job (created through the SDK) training beside it: chat
must stay up. The mix, round robin over a fixed request count: brand-voice (its reply must carry its sign-off),
agent-status-json (JSON valid under its schema), support-classifier (exactly one of its labels), the base
model (must not carry brand-voice's sign-off), and the graph (`skillstack-graph`) when the server lists it;
half the text requests stream. A reply failing its own skill's check counts as cross-talk. Reported: errors,
cross-talk, p50/p95 latency, requests/s, completion tokens/s, greedy replies equal to the baseline's, and the
server's RSS before and after the training run (issue 12's soak). Writes the `serve` section of RESULTS.md.

Usage: .venv/bin/python bench/serve.py [--requests 100] [--clients 50]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results import write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "serve"
BUNDLED = REPO / "skills" / "bundled"
SIGN_OFF = "Lumen Care"
NAMES = ["Maria", "Tom", "Aisha", "Ken", "Lena", "Omar", "Beatriz", "Matteo"]
TROUBLES = ["was charged twice", "cannot log in to the mobile app", "never received the new card",
            "wants to close a savings account", "asks about an overdraft fee"]
AGENTS = ["billing-7", "crawler-2", "mailer-9", "onboarding-svc-3"]
SUPPORT = ["I want a refund for my last order", "Where is my parcel?", "How do I change my shipping address?",
           "I was charged a cancellation fee", "Please unsubscribe me from the newsletter", "I need my invoice"]
BASE = ["Give one tip for writing emails.", "Name three fruits.", "What is a database index?", "Why do we sleep?"]
TRAIN = [{"messages": [{"role": "user", "content": f"Where is parcel {n}?"},
                       {"role": "assistant", "content": "It ships today. Best, the Acme team"}]} for n in range(20)]


@dataclass(kw_only=True)
class Call:
    kind: str
    model: str
    prompt: str
    max_tokens: int
    stream: bool


@dataclass(kw_only=True)
class Result:
    call: Call
    seconds: float
    text: str = ""
    tokens: int = 0
    error: str = ""
    checked: bool = False


def calls(count: int, graph: bool) -> list[Call]:
    kinds = ["brand-voice", "agent-status-json", "support-classifier", "base"] + (["graph"] * graph)
    out = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        if kind == "brand-voice":
            prompt = f"Customer {NAMES[n % len(NAMES)]} {TROUBLES[n % len(TROUBLES)]}. Respond."
            out.append(Call(kind=kind, model=kind, prompt=prompt, max_tokens=110, stream=n % 2 == 0))
        elif kind == "agent-status-json":
            prompt = (f"Agent {AGENTS[n % len(AGENTS)]}: {100 + n} tasks completed, {n % 4} failed with TIMEOUT, "
                      f"{n % 3} in progress, p95 latency {200 + 10 * n} ms.")
            out.append(Call(kind=kind, model=kind, prompt=prompt, max_tokens=160, stream=False))
        elif kind == "support-classifier":
            out.append(Call(kind=kind, model=kind, prompt=SUPPORT[n % len(SUPPORT)], max_tokens=8, stream=False))
        elif kind == "base":
            out.append(Call(kind=kind, model="base", prompt=BASE[n % len(BASE)], max_tokens=48, stream=n % 2 == 1))
        else:
            out.append(Call(kind=kind, model="skillstack-graph", prompt=f"Customer {NAMES[n % len(NAMES)]} "
                            f"{TROUBLES[n % len(TROUBLES)]}. Respond.", max_tokens=110, stream=False))
    return out


def checker() -> Any:
    """The per-skill signature check: True when the reply is what its own skill produces."""
    import tomllib

    from jsonschema import Draft202012Validator

    schema = json.loads((BUNDLED / "agent-status-json" / "schema.json").read_text())
    labels = set(tomllib.loads((BUNDLED / "support-classifier" / "skill.toml").read_text())["labels"])
    validator = Draft202012Validator(schema)

    def check(kind: str, text: str) -> bool:
        if kind == "brand-voice":
            return SIGN_OFF in text
        if kind == "agent-status-json":
            try:
                return validator.is_valid(json.loads(text))
            except json.JSONDecodeError:
                return False
        if kind == "support-classifier":
            return text.strip() in labels
        return bool(text.strip()) and (kind == "graph" or SIGN_OFF not in text)

    return check


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`skillstack serve --no-auth` as a child process on a loopback port, with one batching mode."""

    def __init__(self, home: Path, mode: str, log: Path) -> None:
        self.port = free_port()
        env = os.environ | {"SKILLSTACK_HOME": str(home), "SKILLSTACK_LOCAL_BATCHING": mode,
                            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        self.log = log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "skillstack.cli.main", "serve", "--no-auth",
                                         "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.time() + 300
        import httpx

        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}; see {log}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise SystemExit(f"server did not start in 300 s; see {log}")

    def rss(self) -> int:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def one(client: Any, call: Call) -> Result:
    messages = [{"role": "user", "content": call.prompt}]
    # greedy; the graph refuses a temperature (each of its skills decodes with its own)
    sampling = {} if call.model == "skillstack-graph" else {"temperature": 0}
    start = time.perf_counter()
    try:
        if call.stream:
            text, tokens = "", 0
            for chunk in client.chat.completions.create(model=call.model, messages=messages, max_tokens=call.max_tokens,
                                                        stream=True, **sampling,
                                                        stream_options={"include_usage": True}):
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
                if chunk.usage:
                    tokens = chunk.usage.completion_tokens
        else:
            reply = client.chat.completions.create(model=call.model, messages=messages, max_tokens=call.max_tokens,
                                                   **sampling)
            text, tokens = reply.choices[0].message.content or "", reply.usage.completion_tokens
    except Exception as exc:  # counted, never raised: the load goes on
        return Result(call=call, seconds=time.perf_counter() - start, error=f"{type(exc).__name__}: {str(exc)[:200]}")
    return Result(call=call, seconds=time.perf_counter() - start, text=text, tokens=tokens)


def measured(name: str, url: str, work: list[Call], clients: int) -> tuple[list[Result], float]:
    """One run of load(), its summary printed as soon as it ends (a long bench shows progress)."""
    results, wall = load(url, work, clients)
    print(json.dumps(summary(name, results, wall)), flush=True)
    return results, wall


def load(url: str, work: list[Call], clients: int) -> tuple[list[Result], float]:
    """work spread over `clients` threads, each with its own SDK client; (results in work's order, wall seconds)."""
    from openai import OpenAI

    results: list[Result | None] = [None] * len(work)
    cursor = iter(range(len(work)))
    lock = threading.Lock()
    check = checker()

    def client_loop() -> None:
        client = OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=1800)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            result = one(client, work[index])
            result.checked = not result.error and check(result.call.kind, result.text)
            results[index] = result

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None], time.perf_counter() - start


def summary(name: str, results: list[Result], wall: float) -> dict[str, Any]:
    latencies = sorted(r.seconds for r in results)
    errors = [r for r in results if r.error]
    return {"name": name, "requests": len(results), "errors": len(errors),
            "cross_talk": sum(not r.checked for r in results if not r.error),
            "p50": statistics.median(latencies), "p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)],
            "rps": len(results) / wall, "tokens_per_s": sum(r.tokens for r in results) / wall, "wall": wall,
            "first_errors": sorted({r.error for r in errors})[:3],
            "failed_checks": [(r.call.kind, r.text[:80]) for r in results if not r.error and not r.checked][:3]}


def warm_up(url: str, work: list[Call]) -> None:
    """One request per model, alone: loads the engine, attaches adapters, builds the JSON index (not measured)."""
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=1800)
    for model in dict.fromkeys(call.model for call in work):
        one(client, next(call for call in work if call.model == model))


def start_job(url: str, folder: Path) -> tuple[Any, str]:
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="unused", max_retries=0)
    path = folder / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in TRAIN), encoding="utf-8")
    file = client.files.create(file=path.open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=file.id, model="base", suffix="soak", seed=7, method={
        "type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 2}}})
    deadline = time.time() + 600
    while client.fine_tuning.jobs.retrieve(job.id).status in ("validating_files", "queued") and time.time() < deadline:
        time.sleep(0.5)
    return client, job.id


def row(s: dict[str, Any]) -> str:
    return (f"| {s['name']} | {s['requests']} | {s['errors']} | {s['cross_talk']} | {s['p50']:.1f} | {s['p95']:.1f} | "
            f"{s['rps']:.2f} | {s['tokens_per_s']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="Requests per run (fixed count).")
    parser.add_argument("--clients", type=int, default=50, help="Concurrent SDK clients.")
    args = parser.parse_args()
    os.environ.setdefault("SKILLSTACK_CACHE", str(REPO / ".skillstack-test" / "cache"))
    tmp = Path(tempfile.mkdtemp(prefix="skillstack-serve-bench-"))
    home = tmp / "home"
    home.mkdir()

    runs: dict[str, tuple[list[Result], float]] = {}
    server = Server(home, "gather", tmp / "gather.log")
    try:
        from openai import OpenAI

        graph = "skillstack-graph" in {m.id for m in OpenAI(base_url=server.url, api_key="unused").models.list()}
        work = calls(args.requests, graph)
        warm_up(server.url, work)
        runs["gather (baseline)"] = measured("gather (baseline)", server.url, work, args.clients)
    finally:
        server.stop()

    server = Server(home, "continuous", tmp / "continuous.log")
    try:
        warm_up(server.url, work)
        runs["continuous"] = measured("continuous", server.url, work, args.clients)
        rss_before = server.rss()
        jobs, job_id = start_job(server.url, tmp)
        runs["continuous + training job"] = measured("continuous + training job", server.url, work, args.clients)
        job_status = jobs.fine_tuning.jobs.retrieve(job_id).status
        rss_after = server.rss()
    finally:
        server.stop()

    stats = [summary(name, *run) for name, run in runs.items()]
    base, cont, soak = stats
    baseline_texts = [r.text for r in runs["gather (baseline)"][0]]
    same = sum(a == r.text for a, r in zip(baseline_texts, runs["continuous"][0], strict=True) if not r.error)
    mix = "brand-voice, agent-status-json, support-classifier, base" + (", skillstack-graph" if graph else "")
    body = f"""## Load test of `skillstack serve` (bench/serve.py)

`.venv/bin/python bench/serve.py --requests {args.requests} --clients {args.clients}` on
{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} when the runs ended, {time.strftime('%Y-%m-%d')}.
{args.clients} concurrent `openai` SDK clients on loopback against `skillstack serve --no-auth` (a child process),
{args.requests} requests per run, round robin over {mix}{"" if graph else " (this build's server lists no `skillstack-graph`, so the graph is not in the mix)"};
half the brand-voice and base requests stream; greedy; max_tokens 110 / 160 / 8 / 48. Each reply is checked against its own
skill's signature (brand-voice's sign-off "{SIGN_OFF}", agent-status-json's schema, one of support-classifier's labels,
base without the sign-off): a failed check counts as cross-talk. Latency is per request (a stream: to its last event).
Baseline: the same requests against the older 5 ms gather batcher (`SKILLSTACK_LOCAL_BATCHING=gather`), measured in the same run.

| run | requests | errors | cross-talk | p50 s | p95 s | requests/s | completion tokens/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{row(base)}
{row(cont)}
{row(soak)}

- continuous vs gather: throughput x{cont['rps'] / base['rps']:.2f} (requests/s), tokens/s x{cont['tokens_per_s'] / base['tokens_per_s']:.2f},
  p95 x{cont['p95'] / base['p95']:.2f}, p50 x{cont['p50'] / base['p50']:.2f} (goal: throughput >= 2x, lower p95).
- greedy replies identical to the baseline's: {same} of {len(baseline_texts)}.
- with a fine-tuning job (SFT, {len(TRAIN)} examples, 2 epochs, created through the SDK) training in the server's worker:
  {soak['errors']} errors, {soak['cross_talk']} cross-talk; the job was `{job_status}` when the load ended;
  server RSS {rss_before / 2**20:.0f} MiB before that run, {rss_after / 2**20:.0f} MiB after ({(rss_after / rss_before - 1) * 100:+.1f}%; issue 12's soak asks for within 5%).
"""
    failures = [f"{s['name']}: {s['first_errors']} {s['failed_checks']}" for s in stats if s["errors"] or s["cross_talk"]]
    if failures:
        body += "- first failures: " + "; ".join(failures) + "\n"
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
