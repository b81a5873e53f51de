"""The `agent-status-json` demo skill: free-text agent status reports -> governance-dashboard JSON.

Holds the JSON Schema (draft 2020-12), the field-accuracy scorer (pure), and the seeded generator
that writes reports from phrase pools. Every phrase pool is split: training draws from the first
part, held-out reports only from the rest, so the held-out set measures phrasings never seen.
Not here: training and evaluation (see build.py).
"""

from __future__ import annotations

import json
import random
from typing import Any

NAME = "agent-status-json"
SYSTEM_PROMPT = "Convert the agent status report into the governance dashboard JSON."
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://skillstack.dev/schemas/agent-status.json",
    "title": "Agent status for the governance dashboard",
    "type": "object",
    "properties": {
        "agent_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "status": {"enum": ["ok", "degraded", "failed", "idle"]},
        "tasks": {
            "type": "object",
            "properties": {"completed": {"type": "integer", "minimum": 0},
                           "failed": {"type": "integer", "minimum": 0},
                           "in_progress": {"type": "integer", "minimum": 0}},
            "required": ["completed", "failed", "in_progress"],
            "additionalProperties": False,
        },
        "latency_p95_ms": {"type": ["number", "null"], "minimum": 0},
        "errors": {
            "type": "array",
            "items": {"type": "object",
                      "properties": {"code": {"type": "string"}, "count": {"type": "integer", "minimum": 1}},
                      "required": ["code", "count"], "additionalProperties": False},
        },
        "escalate": {"type": "boolean"},
    },
    "required": ["agent_id", "status", "tasks", "latency_p95_ms", "errors", "escalate"],
    "additionalProperties": False,
}
# What the base model must be told to attempt the task without the skill (the baseline's system prompt).
RULES = (
    SYSTEM_PROMPT + " Answer with one JSON object only, valid under this JSON Schema:\n" + json.dumps(SCHEMA) + "\n"
    "Rules: numbers the report does not mention are 0 (latency_p95_ms: null); seconds are converted to milliseconds; "
    "every error code counts as failed tasks, so tasks.failed equals the sum of the error counts; escalate is true "
    "only when the report asks for a human, an escalation or on-call."
)
ROUTING_EXAMPLES = [
    "Status report from agent billing-sync-2: 340 tasks completed, 2 TIMEOUT errors, p95 latency 820 ms.",
    "invoice-bot: degraded. 12 done, 3 in progress, DB_CONN_RESET x4. Please page on-call.",
    "Agent kyc-checker-7 is idle, no tasks processed since midnight.",
    "Turn this agent report into dashboard JSON: etl-runner finished 58 jobs, p95 1.4 s, all healthy.",
    "Daily report for crawler-03: crashed twice with OOM, 7 jobs failed, needs a human to look at it.",
    "Convert to the governance JSON: fraud-scorer ok, 1200 completed, 15 in flight, p95 95ms.",
    "Heartbeat from agent ledger-recon: running normally, nothing to report.",
    "Agent summary: mailer-4 degraded, 3 AUTH_EXPIRED errors, 40 sent, escalate to ops.",
    "Parse this status update into the schema: pdf-extractor-1 failed, 9 tasks failed with PARSE_ERROR.",
    "Report from support-triage agent: 77 tickets handled, 5 queued, latency p95 2.3 seconds.",
    "Give me the dashboard record for this agent status report: scheduler-9 idle, escalation not needed.",
    "Monitoring note: agent payments-gw-1 is degraded, RATE_LIMIT hit 6 times, p95 latency 1100 ms.",
]

# Many name shapes in training so the adapter learns to copy the id it is given, not to recall one.
_PREFIXES = ["billing", "kyc", "etl", "fraud", "ledger", "mailer", "crawler", "invoice", "payments", "support",
             "scheduler", "report", "search", "ingest", "audit", "pricing", "risk", "ocr", "refund", "chargeback",
             "notify", "backup", "archive", "geo", "quote", "claims", "tax", "fx", "cards", "atm", "chat", "index",
             "export", "import", "metrics", "alerts", "vault", "kyb", "aml", "statement", "payroll", "webhook"]
_HELDOUT_PREFIXES = ["loan", "treasury", "onboarding", "sanctions", "mortgage", "dispute"]
_SUFFIXES = ["bot", "agent", "runner", "sync", "worker", "checker", "scorer", "gateway", "svc", "daemon", "job",
             "poller", "router", "matcher"]
_CODES = ["TIMEOUT", "OOM", "DB_CONN_RESET", "AUTH_EXPIRED", "RATE_LIMIT", "PARSE_ERROR", "HTTP_503", "E1042",
          "DISK_FULL", "SCHEMA_MISMATCH", "UPSTREAM_404", "LOCK_WAIT", "HTTP_429", "TLS_HANDSHAKE", "QUEUE_FULL",
          "E2001", "DNS_FAIL", "CERT_EXPIRED", "DEADLOCK", "SIGTERM"]

# Phrase pools with {id} {status} {n} {code} {errors} {v}{u} (value, unit) placeholders. The last HELD_OUT
# phrasings of every pool appear only in held-out reports, so the eval card measures phrasings never trained on.
STATUS = {
    "ok": ["status ok", "all systems healthy", "running normally", "everything green", "operating as expected",
           "OK", "green across the board", "up and healthy", "working fine", "no problems",
           "healthy and responsive", "nominal", "in good shape"],
    "degraded": ["status degraded", "running degraded", "partially degraded", "slow but working",
                 "performance is degraded", "degraded mode", "struggling (degraded)", "amber, degraded", "half capacity, degraded",
                 "working with reduced capacity", "limping along, degraded", "impaired but up (degraded)"],
    "failed": ["status failed", "down", "has failed", "crashed and is not running", "in a failed state",
               "FAILED", "red, failed", "dead", "stopped with a fatal error (failed)",
               "completely down, failed", "not operational (failed)", "hard down"],
    "idle": ["idle", "sitting idle", "idle, no work queued", "waiting for work (idle)", "currently idle",
             "IDLE", "doing nothing (idle)", "quiet, idle", "nothing to do, idle",
             "idle with an empty queue", "parked, idle", "asleep, idle"],
}
OPENERS = ["Agent {id}: {status}.", "{id} reports {status}.", "Status report from {id}: {status}.",
           "[{id}] {status}.", "Update from agent {id} - {status}.", "{id} is {status}.", "Agent: {id}. State: {status}.",
           "Report for agent {id}. Overall: {status}.", "From {id}: {status}.", "{id} -> {status}.",
           "Here is the hourly report for {id}. It is {status}.", "{id} check-in: {status}.", "Ping from {id}, {status}."]
COMPLETED = ["{n} tasks completed.", "Completed {n} tasks.", "{n} done.", "Finished {n} jobs.",
             "{n} tasks finished successfully.", "Done: {n}.", "{n} completed.", "Successfully handled {n} requests.",
             "Closed {n} tasks.", "{n} jobs succeeded.",
             "Throughput: {n} completed.", "Processed {n} items to completion.", "Wrapped up {n} tasks."]
IN_PROGRESS = ["{n} in progress.", "{n} tasks still running.", "{n} in flight.", "{n} jobs currently running.",
               "Working on {n} more.", "In progress: {n}.", "{n} running now.", "{n} tasks underway.",
               "{n} still open and running.",
               "{n} still being processed.", "Queue: {n} in progress.", "{n} tasks mid-way."]
ERROR = ["{code} x{n}", "{n} {code} errors", "{code} ({n})", "{code} happened {n} times", "{n}x {code}",
         "{code} = {n}", "{n} times {code}", "{code} {n} times", "{n} of {code}",
         "{n} failures with {code}", "{code}: {n}", "saw {code} {n} times"]
ERROR_LEAD = ["Errors: {errors}.", "Failures: {errors}.", "Problems: {errors}.", "Error summary: {errors}.",
              "We hit {errors}.", "Error codes: {errors}.", "Failed tasks by error: {errors}.", "Errors seen: {errors}.",
              "Encountered {errors}.",
              "Issues seen: {errors}.", "Logged {errors}.", "Error log shows {errors}."]
LATENCY = ["p95 latency {v}{u}.", "p95 {v}{u}.", "Latency p95: {v}{u}.", "p95 response time {v}{u}.",
           "95th percentile latency is {v}{u}.", "p95={v}{u}.", "p95 latency of {v}{u}.", "Latency (p95) {v}{u}.",
           "p95: {v}{u}.",
           "Tail latency (p95) {v}{u}.", "p95 at {v}{u}.", "p95 hovering around {v}{u}."]
# Every spelling of a unit trains: the rule to learn is the conversion, whatever the spelling.
UNITS_MS = [" ms", "ms", " milliseconds", " msec"]
UNITS_S = [" s", "s", " seconds", " sec"]
ESCALATE = ["Please page on-call.", "Escalate to a human.", "Needs a human to look at it.", "Escalating to ops.",
            "Requesting escalation.", "Page the on-call engineer.", "Escalate please.", "Human review needed.",
            "Wake up on-call.", "Please escalate this.",
            "Can someone on-call take a look?", "Please get a human involved.", "Raising to the on-call team."]
NO_ESCALATE = ["No escalation needed.", "Nothing to escalate.", "No action required.", "No human needed.",
               "All fine, no escalation.", "Do not page anyone.", "No escalation.", "Handled automatically.",
               "Nothing needs attention.", "No need to page anyone.", "No human action required."]
HELD_OUT = 3  # the last three phrasings of each pool are held out


def _pool(options: list[str], heldout: bool) -> list[str]:
    return options[-HELD_OUT:] if heldout else options[:-HELD_OUT]


def _agent_id(rng: random.Random, heldout: bool) -> str:
    prefix = rng.choice(_HELDOUT_PREFIXES if heldout else _PREFIXES)
    shape = rng.randrange(4)
    if shape == 0:
        return f"{prefix}-{rng.choice(_SUFFIXES)}"
    if shape == 1:
        return f"{prefix}-{rng.choice(_SUFFIXES)}-{rng.randint(1, 12)}"
    return f"{prefix}-{rng.randint(1, 99):02d}" if shape == 2 else f"{prefix}-{rng.choice(_SUFFIXES)}-{rng.choice('abcdef')}{rng.randint(1, 9)}"


def sample_status(rng: random.Random, *, heldout: bool) -> tuple[str, dict[str, Any]]:
    """One (report text, expected JSON object) pair following the skill's rules."""
    status = rng.choice(list(STATUS))
    completed = 0 if status == "idle" or rng.random() < 0.15 else rng.choice([rng.randint(1, 20), rng.randint(20, 500)])
    in_progress = 0 if status in ("idle", "failed") or rng.random() < 0.3 else rng.randint(1, 30)
    n_errors = 0 if status in ("ok", "idle") else (rng.randint(1, 2) if status == "failed" else rng.randint(0, 2))
    errors = [{"code": code, "count": rng.randint(1, 6)} for code in rng.sample(_CODES, n_errors)]
    latency: float | None = None
    latency_text = ""
    if status != "idle" and rng.random() < 0.7:
        template = rng.choice(_pool(LATENCY, heldout))
        if rng.random() < 0.5:
            latency = rng.choice([rng.randint(20, 990), rng.randint(1000, 4000)])
            latency_text = template.format(v=latency, u=rng.choice(UNITS_MS))
        else:
            tenths = rng.randint(2, 60)
            latency = tenths * 100
            latency_text = template.format(v=f"{tenths / 10:g}", u=rng.choice(UNITS_S))
    escalate = status == "failed" and rng.random() < 0.6 or status == "degraded" and rng.random() < 0.3
    agent_id = _agent_id(rng, heldout)

    parts = [rng.choice(_pool(OPENERS, heldout)).format(id=agent_id, status=rng.choice(_pool(STATUS[status], heldout)))]
    optional = []
    if completed:
        optional.append(rng.choice(_pool(COMPLETED, heldout)).format(n=completed))
    if in_progress:
        optional.append(rng.choice(_pool(IN_PROGRESS, heldout)).format(n=in_progress))
    if errors:
        listed = ", ".join(rng.choice(_pool(ERROR, heldout)).format(code=e["code"], n=e["count"]) for e in errors)
        optional.append(rng.choice(_pool(ERROR_LEAD, heldout)).format(errors=listed))
    if latency_text:
        optional.append(latency_text)
    rng.shuffle(optional)
    parts += optional
    if escalate:
        parts.append(rng.choice(_pool(ESCALATE, heldout)))
    elif rng.random() < 0.3:
        parts.append(rng.choice(_pool(NO_ESCALATE, heldout)))

    expected = {"agent_id": agent_id, "status": status,
                "tasks": {"completed": completed, "failed": sum(e["count"] for e in errors), "in_progress": in_progress},
                "latency_p95_ms": latency, "errors": errors, "escalate": escalate}
    return " ".join(parts), expected


def field_accuracy(predicted: Any, expected: dict[str, Any]) -> dict[str, bool]:
    """Which key fields a prediction got right (pure). Errors compare as a code->count mapping, order-free."""
    got = predicted if isinstance(predicted, dict) else {}
    tasks = got.get("tasks") if isinstance(got.get("tasks"), dict) else {}
    got_errors = got.get("errors") if isinstance(got.get("errors"), list) else []

    def as_map(items: list[Any]) -> dict[str, Any]:
        return {e.get("code"): e.get("count") for e in items if isinstance(e, dict)}

    latency = got.get("latency_p95_ms")
    want = expected["latency_p95_ms"]
    return {
        "agent_id": got.get("agent_id") == expected["agent_id"],
        "status": got.get("status") == expected["status"],
        "tasks.completed": tasks.get("completed") == expected["tasks"]["completed"],
        "tasks.failed": tasks.get("failed") == expected["tasks"]["failed"],
        "tasks.in_progress": tasks.get("in_progress") == expected["tasks"]["in_progress"],
        "latency_p95_ms": latency == want if want is None or latency is None else abs(float(latency) - want) < 0.5,
        "errors": as_map(got_errors) == as_map(expected["errors"]),
        "escalate": got.get("escalate") is expected["escalate"],
    }


METRICS = ("schema_valid", "field_accuracy", "exact_match", "field:agent_id", "field:status", "field:tasks.completed",
           "field:tasks.failed", "field:tasks.in_progress", "field:latency_p95_ms", "field:errors",
           "field:escalate")  # score()'s keys, in eval card order


def score(item: dict[str, Any], text: str, parsed: Any = None) -> dict[str, float]:
    """Schema validity, mean field accuracy and all-fields-right for one answer (parsed from text when not given)."""
    from jsonschema import Draft202012Validator

    if parsed is None:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    valid = parsed is not None and Draft202012Validator(SCHEMA).is_valid(parsed)
    fields = field_accuracy(parsed, item["expected"])
    return {"schema_valid": float(valid), "field_accuracy": sum(fields.values()) / len(fields),
            "exact_match": float(all(fields.values())), **{f"field:{k}": float(v) for k, v in fields.items()}}


def generate(seed: int, *, n_train: int, n_heldout: int) -> tuple[list[dict], list[dict], dict]:
    """(train chat examples, held-out items, provenance); same seed -> same output, no duplicate reports."""
    rng = random.Random(seed)
    seen: set[str] = set()

    def draw(heldout: bool) -> tuple[str, dict[str, Any]]:
        while True:
            report, expected = sample_status(rng, heldout=heldout)
            if report not in seen:
                seen.add(report)
                return report, expected

    train = []
    for _ in range(n_train):
        report, expected = draw(False)
        train.append({"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": report},
                                   {"role": "assistant", "content": json.dumps(expected)}]})
    heldout = []
    for _ in range(n_heldout):
        report, expected = draw(True)
        # No system turn: the skill's manifest supplies it at inference.
        heldout.append({"messages": [{"role": "user", "content": report}],
                        "expected": expected})
    return train, heldout, {"prompts": "template reports; held-out phrasings and agent names never in training"}
