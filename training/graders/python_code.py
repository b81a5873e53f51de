"""The python grader: the spec's `source` defines grade(sample, item) -> float, run in a separate, isolated
Python process with a time limit (and a memory cap on POSIX). A crash, timeout or non-number scores 0 and
is reported on stderr; the grading process itself is never at risk.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any

from skillstack.errors import ConfigError
from .base import BuildContext, Grader, common_fields, field_of, register_grader

DEFAULT_TIMEOUT_S = 10.0
MEMORY_LIMIT_BYTES = 1 << 30

# Runs inside the child: the user's source in a fresh namespace; only the score goes to stdout.
_RUNNER = """
import json, sys
payload = json.loads(sys.stdin.read())
namespace = {"__name__": "grader"}
exec(compile(payload["source"], "<grader>", "exec"), namespace)
score = namespace["grade"](payload["sample"], payload["item"])
sys.stdout.write(json.dumps({"score": float(score)}))
"""


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


@dataclass(kw_only=True)
class PythonGrader(Grader):
    source: str
    timeout_s: float = DEFAULT_TIMEOUT_S

    def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        payload = json.dumps({"source": self.source, "sample": sample, "item": item})
        with tempfile.TemporaryDirectory(prefix="skillstack-grader-") as scratch:
            try:
                done = subprocess.run([sys.executable, "-I", "-c", _RUNNER], input=payload, capture_output=True,
                                      text=True, timeout=self.timeout_s, cwd=scratch, env={"PATH": "/usr/bin:/bin"},
                                      preexec_fn=_limit_memory if sys.platform != "win32" else None)
            except subprocess.TimeoutExpired:
                warnings.warn(f"python grader {self.name!r}: timed out after {self.timeout_s:g}s; scored 0", stacklevel=2)
                return 0.0
        try:
            score = float(json.loads(done.stdout)["score"])
        except (ValueError, KeyError, TypeError):
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            warnings.warn(f"python grader {self.name!r} failed ({tail}); scored 0", stacklevel=2)
            return 0.0
        return max(0.0, min(1.0, score)) if math.isfinite(score) else 0.0


def build(spec: dict[str, Any], context: BuildContext) -> PythonGrader:
    source = field_of(spec, "source", str)
    try:
        compile(source, "<grader>", "exec")
    except SyntaxError as exc:
        raise ConfigError(f"python grader {spec.get('name')!r}: source line {exc.lineno}: {exc.msg}") from exc
    if "def grade" not in source:
        raise ConfigError(f"python grader {spec.get('name')!r}: source must define grade(sample, item) -> float")
    timeout = field_of(spec, "timeout", float, default=DEFAULT_TIMEOUT_S)
    if timeout <= 0:
        raise ConfigError(f"python grader {spec.get('name')!r}: 'timeout' must be positive")
    return PythonGrader(**common_fields(spec), source=source, timeout_s=timeout)


register_grader("python", build)
