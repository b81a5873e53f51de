"""The `agent-status-json` demo skill: free-text agent status reports -> governance-dashboard JSON.

Holds the JSON Schema (draft 2020-12), the field-accuracy scorer (pure), and the seeded, curated
generator: reports come from status_layouts (eight layouts, held-out phrasings and agents), and each
pair must pass the schema and status_rules' checks before it enters a set.
Not here: the layouts, the rule grader, training and evaluation (see build.py).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from .status_layouts import render, sample_facts
from .status_rules import rule_checks

NAME = "agent-status-json"
SYSTEM_PROMPT = "Convert the agent status report into the governance dashboard JSON."
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://skillstack.dev/schemas/agent-status.json",
    "title": "Agent status for the governance dashboard",
    "type": "object",
    "properties": {
        # x-from-input (skills/input_bound.py): decoding copies the id, the counts and the error codes from the
        # report itself (a count the report does not give is 0); the latency is one of the report's numbers in
        # milliseconds, converted from the unit written after it ("1.2 s" -> 1200), or null.
        "agent_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "x-from-input": True},
        "status": {"enum": ["ok", "degraded", "failed", "idle"]},
        "tasks": {
            "type": "object",
            "properties": {"completed": {"type": "integer", "minimum": 0, "x-from-input": True},
                           "failed": {"type": "integer", "minimum": 0, "x-from-input": True},
                           "in_progress": {"type": "integer", "minimum": 0, "x-from-input": True}},
            "required": ["completed", "failed", "in_progress"],
            "additionalProperties": False,
        },
        "latency_p95_ms": {"type": ["number", "null"], "minimum": 0, "x-from-input": "ms"},
        # x-items-sum (skills/item_sums.py): local decoding makes the error counts add up to tasks.failed.
        "errors": {
            "type": "array",
            "x-items-sum": {"property": "count", "equals": "/tasks/failed"},
            "items": {"type": "object",
                      "properties": {"code": {"type": "string", "x-from-input": True},
                                     "count": {"type": "integer", "minimum": 1, "x-from-input": True}},
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
    "every error code counts as failed tasks, so tasks.failed equals the sum of the error counts; error codes are "
    "copied as written in the report, never invented; other numbers (tickets, builds, p50, p99) are ignored; "
    "escalate is true only when the report asks for a human, an escalation or on-call."
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
           "field:escalate", "failed_equals_errors")  # score()'s keys, in eval card order


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
            "exact_match": float(all(fields.values())), **{f"field:{k}": float(v) for k, v in fields.items()},
            "failed_equals_errors": float(rule_checks(parsed, "")["failed_sum"])}


def curation_failures(report: str, expected: dict[str, Any]) -> list[str]:
    """Why a generated (report, record) pair breaks the skill's own rules (empty: it may enter the dataset)."""
    from jsonschema import Draft202012Validator

    problems = [f"schema: {e.message}" for e in Draft202012Validator(SCHEMA).iter_errors(expected)]
    problems += [f"rule: {name}" for name, ok in rule_checks(expected, report).items() if not ok]
    if expected["agent_id"] not in report.lower():
        problems.append("agent_id: not in the report")
    return problems


def generate(seed: int, *, n_train: int, n_heldout: int) -> tuple[list[dict], list[dict], dict]:
    """(train chat examples, held-out items, provenance); same seed -> same output, no duplicate reports.

    Every generated pair is checked by curation_failures (the schema and status_rules' grader rules)
    before it enters either set; the ones dropped are counted, by reason, in the provenance.
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    dropped: Counter[str] = Counter()

    def draw(heldout: bool) -> tuple[str, dict[str, Any]]:
        while True:
            facts = sample_facts(rng, heldout=heldout)
            report, expected = render(facts, rng, heldout=heldout), facts.expected()
            problems = curation_failures(report, expected)
            if problems:
                dropped.update(problems)
            elif report not in seen:
                seen.add(report)
                return report, expected

    train = []
    for _ in range(n_train):
        report, expected = draw(False)
        train.append({"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": report},
                                   {"role": "assistant", "content": json.dumps(expected, ensure_ascii=False)}]})
    heldout = []
    for _ in range(n_heldout):
        report, expected = draw(True)
        # No system turn: the skill's manifest supplies it at inference.
        heldout.append({"messages": [{"role": "user", "content": report}], "expected": expected})
    return train, heldout, {"prompts": "reports in 8 layouts (prose, email, chat, log, bullets, table, key: value, "
                                       "one-liner) with distractor numbers; held-out phrasings and agent names never in training",
                            "curation": {"checked_by": "schema + status_rules (failed_sum, codes_in_report, latency_ms)",
                                         "dropped": sum(dropped.values()), "dropped_by_reason": dict(sorted(dropped.items()))}}
