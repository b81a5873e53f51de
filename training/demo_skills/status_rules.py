"""The agent-status-json rules JSON Schema cannot express, as a self-contained `python` grader source.

This file is both a module (the generator curates its examples with `rule_checks`) and, read as text,
the `source` of the python grader that RFT and `skillstack eval` run in an isolated process
(`grader_spec()`): it imports only the standard library, so it runs where skillstack is not installed.
The rules, checked on the output against the report it came from (item["messages"], last user turn):
- failed_sum: tasks.failed equals the sum of the error counts;
- codes_in_report: every error code appears in the report, as written;
- latency_ms: a p95 in the report, converted to milliseconds (s x1000, us /1000, min x60000), is
  latency_p95_ms; no p95 in the report means null.
With item["expected"], grade() averages the rules and the field matches; without, the rules alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_UNIT_MS = {"ms": 1.0, "msec": 1.0, "millisecond": 1.0, "milliseconds": 1.0, "s": 1000.0, "sec": 1000.0,
            "secs": 1000.0, "second": 1000.0, "seconds": 1000.0, "us": 0.001, "µs": 0.001, "microseconds": 0.001,
            "min": 60000.0, "mins": 60000.0, "minute": 60000.0, "minutes": 60000.0}
_UNIT = r"(ms|msec|milliseconds?|seconds?|secs?|sec|s|us|µs|microseconds|minutes?|mins?|min)"
_P95 = r"(?:p95|95th[ -]percentile|p-95)"
# "p95 latency 1.8 s", "p95=820ms", "p95_ms=820", "| p95 | ... 1.2 s" (the unit may sit in the key)
_P95_VALUE = re.compile(_P95 + r"(?:[_ ]?" + _UNIT + r"\b)?[^0-9\n]{0,30}?(\d+(?:\.\d+)?)\s?" + _UNIT + r"?\b", re.IGNORECASE)


def report_text(item: dict[str, Any]) -> str:
    """The report: the last user message of the item's prompt."""
    users = [m.get("content") for m in item.get("messages", []) if isinstance(m, dict) and m.get("role") == "user"]
    return users[-1] if users and isinstance(users[-1], str) else ""


def p95_ms(report: str) -> float | None:
    """The report's p95 in milliseconds (first mention; no unit means ms), or None when it gives none."""
    match = _P95_VALUE.search(report)
    if match is None:
        return None
    key_unit, value, unit = match.group(1), float(match.group(2)), match.group(3) or match.group(1) or "ms"
    return round(value * _UNIT_MS[(unit if match.group(3) else key_unit or "ms").lower()], 3)


def rule_checks(output: Any, report: str) -> dict[str, bool]:
    """Each rule the schema cannot express, on one parsed output (anything not a dict fails them all)."""
    if not isinstance(output, dict) or not isinstance(output.get("tasks"), dict) or not isinstance(output.get("errors"), list):
        return {"failed_sum": False, "codes_in_report": False, "latency_ms": False}
    errors = [e for e in output["errors"] if isinstance(e, dict)]
    counts = [e.get("count") for e in errors]
    total = sum(c for c in counts if isinstance(c, int))
    want = p95_ms(report)
    got = output.get("latency_p95_ms")
    latency_ok = got is None if want is None else isinstance(got, (int, float)) and abs(float(got) - want) < 0.5
    return {"failed_sum": output["tasks"].get("failed") == total,
            "codes_in_report": all(isinstance(e.get("code"), str) and e["code"] and e["code"] in report for e in errors),
            "latency_ms": latency_ok}


def _field_matches(output: dict[str, Any], expected: dict[str, Any]) -> list[bool]:
    tasks = output.get("tasks") if isinstance(output.get("tasks"), dict) else {}
    def as_map(items: Any) -> dict[Any, Any]:
        return {e.get("code"): e.get("count") for e in items if isinstance(e, dict)} if isinstance(items, list) else {}

    return [output.get(key) == expected[key] for key in ("agent_id", "status", "latency_p95_ms", "escalate")] + \
        [tasks.get(key) == expected["tasks"][key] for key in ("completed", "failed", "in_progress")] + \
        [as_map(output.get("errors")) == as_map(expected["errors"])]


def grade(sample: dict[str, Any], item: dict[str, Any]) -> float:
    """The python grader's entry point: the mean of the rules (and field matches when item has expected)."""
    output = sample.get("output_json")
    if output is None:
        try:
            output = json.loads(sample.get("output_text") or "")
        except ValueError:
            return 0.0
    checks = list(rule_checks(output, report_text(item)).values())
    if isinstance(item.get("expected"), dict) and isinstance(output, dict):
        checks += _field_matches(output, item["expected"])
    return sum(checks) / len(checks)


def grader_spec() -> dict[str, Any]:
    """This file as an OpenAI-style python grader spec (what `--grader FILE` holds)."""
    return {"type": "python", "name": "status_rules", "source": Path(__file__).read_text(encoding="utf-8")}
