"""Agent status reports in many layouts and registers, from one set of facts: the agent-status-json generator's world.

Holds the facts sampler (counts, error codes, p95 in several units, escalation) and one renderer per
layout: prose, email with a numbered signature, chat message, timestamped log lines, bullet list,
markdown table, key: value block, one-liner. Reports carry distractor numbers (tickets, builds,
versions, host stats, p50/p99 beside p95) that must not be copied, and hard negatives: alarming
reports that ask for no human (escalate false). Every pool's last HELD_OUT phrasings, and the
held-out agent prefixes, appear only in held-out reports. Not here: the schema, the scorer and the
curation (status_json.py, status_rules.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

HELD_OUT = 2  # the last two phrasings of each pool are held out

PREFIXES = ["billing", "kyc", "etl", "fraud", "ledger", "mailer", "crawler", "invoice", "payments", "support",
            "scheduler", "report", "search", "ingest", "audit", "pricing", "risk", "ocr", "refund", "chargeback",
            "notify", "backup", "archive", "geo", "quote", "claims", "tax", "fx", "cards", "atm", "chat", "index",
            "export", "import", "metrics", "alerts", "vault", "kyb", "aml", "statement", "payroll", "webhook", "x9", "q"]
HELDOUT_PREFIXES = ["loan", "treasury", "onboarding", "sanctions", "mortgage", "dispute"]
SUFFIXES = ["bot", "agent", "runner", "sync", "worker", "checker", "scorer", "gateway", "svc", "daemon", "job",
            "poller", "router", "matcher", "relay", "cron"]
CODES = ["TIMEOUT", "OOM", "DB_CONN_RESET", "AUTH_EXPIRED", "RATE_LIMIT", "PARSE_ERROR", "HTTP_503", "E1042",
         "DISK_FULL", "SCHEMA_MISMATCH", "UPSTREAM_404", "LOCK_WAIT", "HTTP_429", "TLS_HANDSHAKE", "QUEUE_FULL",
         "E2001", "DNS_FAIL", "CERT_EXPIRED", "DEADLOCK", "SIGTERM", "ECONNREFUSED", "ERR_QUOTA", "KAFKA_LAG", "S3_403"]

STATUS = {
    "ok": ["healthy", "running normally", "all green", "operating as expected", "OK", "up and healthy", "fine",
           "nominal", "in good shape", "no problems", "working normally", "steady and healthy"],
    "degraded": ["degraded", "running degraded", "partially degraded", "slow but working (degraded)", "in degraded mode",
                 "amber / degraded", "working at reduced capacity (degraded)", "impaired but up (degraded)",
                 "degraded, limping along", "partly working (degraded)"],
    "failed": ["failed", "down", "crashed", "in a failed state", "FAILED", "dead", "stopped with a fatal error",
               "hard down", "not operational (failed)", "halted after a crash"],
    "idle": ["idle", "sitting idle", "idle, nothing queued", "waiting for work (idle)", "IDLE", "quiet (idle)",
             "parked, idle", "idle with an empty queue"],
}
COMPLETED = ["{n} tasks completed", "completed {n} tasks", "{n} done", "finished {n} jobs", "{n} jobs succeeded",
             "{n} completed", "closed {n} tasks", "processed {n} items to completion", "wrapped up {n} tasks",
             "{n} tasks finished OK"]
IN_PROGRESS = ["{n} in progress", "{n} still running", "{n} in flight", "{n} jobs currently running",
               "working on {n} more", "{n} underway", "{n} still open", "{n} being processed", "{n} mid-way",
               "{n} tasks running right now"]
ONE_CODE = ["{n} failed with {code}", "{n} tasks failed ({code})", "{n} failures, all {code}", "{code} failed {n} tasks",
            "{n} jobs died with {code}", "{n} failed: {code}", "lost {n} tasks to {code}", "{n} tasks failed on {code}"]
PER_CODE = ["{code} x{n}", "{code} ({n})", "{n}x {code}", "{code}={n}", "{code}: {n}", "{n} {code}", "{code} {n} times",
            "{n} of {code}"]
MANY_CODES = ["{total} failed ({errors})", "{total} tasks failed: {errors}", "errors: {errors} ({total} failed tasks)",
              "failures by code: {errors}", "{total} failed, {errors}", "failed tasks {total} - {errors}"]
LATENCY = ["p95 latency {v}", "p95 {v}", "latency p95: {v}", "p95 response time {v}", "95th percentile latency is {v}",
           "p95={v}", "p95 latency of {v}", "p95 at {v}", "p95 hovering around {v}", "p95 sitting at {v}"]
ESCALATE = ["Please page on-call.", "Escalate to a human.", "Needs a human to look at it.", "Escalating to ops.",
            "Requesting escalation.", "Page the on-call engineer.", "Human review needed.", "Wake up on-call.",
            "Can someone on-call take a look?", "Please get a human involved.", "Raising to the on-call team."]
NO_ESCALATE = ["No escalation needed.", "Nothing to escalate.", "No action required.", "No human needed.",
               "Do not page anyone.", "Handled automatically.", "No need to page anyone.", "Self-healing, no action."]
# Hard negatives: they sound urgent but ask for no human, so escalate stays false.
ALARMING = ["This looks bad.", "Ugly night.", "Critical numbers, auto-restart scheduled.", "Not great!!",
            "Big spike in failures, retry policy kicked in.", "Red dashboard all morning.", "Worst run this week.",
            "Alarming, but the watchdog is on it."]
GREETINGS = ["Hi team,", "Hello all,", "Morning,", "Team,", "Hi ops,"]
SIGNERS = ["Priya (SRE)", "Tom K.", "night shift", "Ops bot", "J. Alvarez", "Platform team"]


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What a report says, and the record it must become."""

    agent_id: str
    shown_id: str  # as written in the report (sometimes upper-case: the record is lower-case)
    status: str
    completed: int
    in_progress: int
    errors: list[dict[str, Any]]
    latency_ms: int | None
    latency_text: str | None  # e.g. "1.8 s"
    escalate: bool

    def expected(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "status": self.status,
                "tasks": {"completed": self.completed, "failed": sum(e["count"] for e in self.errors),
                          "in_progress": self.in_progress},
                "latency_p95_ms": self.latency_ms, "errors": self.errors, "escalate": self.escalate}


def pool(options: list[str], heldout: bool) -> list[str]:
    return options[-HELD_OUT:] if heldout else options[:-HELD_OUT]


def _agent_id(rng: random.Random, heldout: bool) -> str:
    prefix = rng.choice(HELDOUT_PREFIXES if heldout else PREFIXES)
    shape = rng.randrange(5)
    if shape == 0:
        return f"{prefix}-{rng.choice(SUFFIXES)}"
    if shape == 1:
        return f"{prefix}-{rng.choice(SUFFIXES)}-{rng.randint(1, 12)}"
    if shape == 2:
        return f"{prefix}-{rng.randint(1, 99):02d}"
    if shape == 3:
        return f"{prefix}{rng.randint(1, 9)}"
    return f"{prefix}-{rng.choice(SUFFIXES)}-{rng.choice('abcdef')}{rng.randint(1, 9)}"


def _latency(rng: random.Random) -> tuple[int, str]:
    """(milliseconds, how the report writes it) in ms, s, µs or minutes."""
    unit = rng.choices(["ms", "s", "us", "min"], weights=[5, 4, 1, 1])[0]
    if unit == "ms":
        ms = rng.choice([rng.randint(8, 990), rng.randint(1000, 4000)])
        return ms, f"{ms}{rng.choice([' ms', 'ms', ' milliseconds'])}"
    if unit == "s":
        tenths = rng.randint(1, 90)
        return tenths * 100, f"{tenths / 10:g}{rng.choice([' s', 's', ' seconds', ' sec'])}"
    if unit == "us":
        ms = rng.randint(1, 900)
        return ms, f"{ms * 1000}{rng.choice([' µs', ' us', ' microseconds'])}"
    minutes = rng.randint(1, 4)
    return minutes * 60000, f"{minutes} {rng.choice(['min', 'minutes'])}"


def sample_facts(rng: random.Random, *, heldout: bool) -> Facts:
    status = rng.choice(list(STATUS))
    completed = 0 if status == "idle" or rng.random() < 0.12 else rng.choice([rng.randint(1, 20), rng.randint(20, 900), rng.randint(900, 20000)])
    in_progress = 0 if status == "idle" or rng.random() < 0.35 else rng.randint(1, 40)
    n_codes = 0 if status == "idle" or status == "ok" and rng.random() < 0.9 else rng.choice([0, 1, 1, 1, 2, 2, 3])
    errors = [{"code": code, "count": rng.choice([rng.randint(1, 9), rng.randint(10, 60)])}
              for code in rng.sample(CODES, n_codes)]
    latency_ms, latency_text = _latency(rng) if status != "idle" and rng.random() < 0.7 else (None, None)
    escalate = rng.random() < {"failed": 0.55, "degraded": 0.3, "ok": 0.03, "idle": 0.02}[status]
    agent_id = _agent_id(rng, heldout)
    shown = agent_id.upper() if rng.random() < 0.08 else agent_id
    return Facts(agent_id=agent_id, shown_id=shown, status=status, completed=completed, in_progress=in_progress,
                 errors=errors, latency_ms=latency_ms, latency_text=latency_text, escalate=escalate)


def _errors_phrase(facts: Facts, rng: random.Random, heldout: bool) -> str:
    if len(facts.errors) == 1 and rng.random() < 0.6:
        e = facts.errors[0]
        return rng.choice(pool(ONE_CODE, heldout)).format(n=e["count"], code=e["code"])
    listed = ", ".join(rng.choice(pool(PER_CODE, heldout)).format(code=e["code"], n=e["count"]) for e in facts.errors)
    return rng.choice(pool(MANY_CODES, heldout)).format(total=sum(e["count"] for e in facts.errors), errors=listed)


def _distractor(rng: random.Random) -> str:
    return rng.choice([f"build #{rng.randint(1000, 99999)}", f"ticket INC-{rng.randint(10000, 99999)}",
                       f"version {rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
                       f"host cpu {rng.randint(5, 99)}%", f"pid {rng.randint(300, 65000)}",
                       f"week {rng.randint(1, 52)}", f"memory {rng.randint(1, 64)} GB",
                       f"region shard {rng.randint(1, 40)}"])


def _other_percentiles(facts: Facts, rng: random.Random) -> str:
    """p50 and p99 beside p95, in the same unit as written, to be ignored (only after the p95: the rule reads the first)."""
    if facts.latency_ms is None or rng.random() < 0.6:
        return ""
    unit = facts.latency_text.split(" ")[-1] if " " in facts.latency_text else "ms"
    return f" (p50 {rng.randint(1, 40)} {unit}, p99 {rng.randint(41, 99)} {unit})" if unit in ("ms", "s") else ""


def _clauses(facts: Facts, rng: random.Random, heldout: bool) -> list[str]:
    """The facts as short clauses, in random order (zero counts sometimes said, sometimes left out)."""
    clauses = []
    if facts.completed or rng.random() < 0.3:
        clauses.append(rng.choice(pool(COMPLETED, heldout)).format(n=facts.completed))
    if facts.in_progress or rng.random() < 0.25:
        clauses.append(rng.choice(pool(IN_PROGRESS, heldout)).format(n=facts.in_progress))
    if facts.errors:
        clauses.append(_errors_phrase(facts, rng, heldout))
    elif rng.random() < 0.3:
        clauses.append(rng.choice(["no errors", "zero failures", "0 failed", "no failures"]))
    if facts.latency_text:
        clauses.append(rng.choice(pool(LATENCY, heldout)).format(v=facts.latency_text) + _other_percentiles(facts, rng))
    rng.shuffle(clauses)
    return clauses


def _closing(facts: Facts, rng: random.Random, heldout: bool) -> str:
    if facts.escalate:
        return rng.choice(pool(ESCALATE, heldout))
    roll = rng.random()
    if facts.status in ("failed", "degraded") and roll < 0.4:
        return rng.choice(pool(ALARMING, heldout))
    return rng.choice(pool(NO_ESCALATE, heldout)) if roll < 0.6 else ""


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def render(facts: Facts, rng: random.Random, *, heldout: bool) -> str:
    """The report in one of eight layouts."""
    status = rng.choice(pool(STATUS[facts.status], heldout))
    clauses, closing, who = _clauses(facts, rng, heldout), _closing(facts, rng, heldout), facts.shown_id
    layout = rng.choice(["prose", "email", "chat", "log", "bullets", "table", "keyvalue", "oneliner"])
    noise = _distractor(rng) if rng.random() < 0.5 else ""
    if layout == "prose":
        lead = rng.choice([f"Agent {who} is {status}.", f"Status report from {who}: {status}.", f"{who} reports {status}.",
                           f"Update from agent {who} - {status}.", f"[{who}] {status}."])
        body = " ".join(_sentence(c) for c in clauses)
        return " ".join(p for p in (lead, body, f"Deployed {noise}." if noise else "", closing) if p)
    if layout == "email":
        subject = f"Subject: {who} {rng.choice(['daily report', 'status', 'shift summary', 'health check'])}"
        body = f"{who} is {status} today. " + " ".join(_sentence(c) for c in clauses)
        signature = f"{rng.choice(SIGNERS)}\next. {rng.randint(1000, 9999)} | +44 20 7946 {rng.randint(1000, 9999)}"
        return "\n\n".join(p for p in (subject, rng.choice(GREETINGS), body, closing, f"Thanks,\n{signature}") if p)
    if layout == "chat":
        text = f"{rng.choice(['hey', 'fyi', 'quick one', 'heads up'])} - {who} {status.lower()}, " + ", ".join(clauses)
        return (text + (f" ({noise})" if noise else "") + (f" {closing.lower()}" if closing else "")).strip()
    if layout == "log":
        stamp = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        lines = [f"{stamp}:01Z INFO [{who}] status: {status}"]
        lines += [f"{stamp}:{i + 2:02d}Z {'WARN' if 'fail' in c or any(e['code'] in c for e in facts.errors) else 'INFO'} [{who}] {c}"
                  for i, c in enumerate(clauses)]
        if closing:
            lines.append(f"{stamp}:59Z NOTE [{who}] {closing}")
        return "\n".join(lines)
    if layout == "bullets":
        lines = [f"{who} - {rng.choice(['status update', 'report', 'summary'])}", f"- state: {status}"]
        lines += [f"- {c}" for c in clauses] + ([f"- {noise}"] if noise else []) + ([f"- {closing}"] if closing else [])
        return "\n".join(lines)
    if layout == "table":
        failed = sum(e["count"] for e in facts.errors)
        rows = ["| agent | status | completed | failed | in progress |", "|---|---|---|---|---|",
                f"| {who} | {status} | {facts.completed} | {failed} | {facts.in_progress} |"]
        extra = [("Errors: " + ", ".join(f"{e['code']} x{e['count']}" for e in facts.errors)) if facts.errors else "",
                 f"p95: {facts.latency_text}" if facts.latency_text else "", noise, closing]
        return "\n".join(rows) + "\n" + "\n".join(p for p in extra if p)
    if layout == "keyvalue":
        lines = [f"agent: {who}", f"state: {status}", f"done: {facts.completed}", f"in_progress: {facts.in_progress}"]
        if facts.errors:
            lines.append("errors: " + ", ".join(f"{e['code']}={e['count']}" for e in facts.errors))
        if facts.latency_text:
            lines.append(f"p95: {facts.latency_text}")
        return "\n".join(lines + ([f"note: {noise}"] if noise else []) + ([f"comment: {closing}"] if closing else []))
    return f"{who}: {status}, " + ", ".join(clauses) + "." + (f" {closing}" if closing else "")
