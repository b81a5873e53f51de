"""CLI command `skillstack vllm`: a real vLLM server over the base model and every local skill, kept in sync.

The process and its adapters are skillstack.skills.vllm_server's; this module only maps flags and keeps
the command in the foreground (SIGTERM and Ctrl-C stop vLLM's whole process group).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any, Optional

import typer

from .common import settings_from

app = typer.Typer()


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


@app.command("vllm")
def vllm(
    ctx: typer.Context,
    port: int = typer.Option(8100, "--port", min=1, max=65535, help="TCP port on 127.0.0.1 (vLLM has no keys here: loopback only)."),
    max_loras: int = typer.Option(4, "--max-loras", min=1, help="Adapters vLLM runs in one batch."),
    max_lora_rank: int = typer.Option(0, "--max-lora-rank", min=0, help="Largest adapter rank; 0 = the skills' largest, at least 16."),
    max_model_len: int = typer.Option(2048, "--max-model-len", min=64, help="Context length in tokens."),
    kv_cache_gb: int = typer.Option(2, "--kv-cache-gb", min=1, help="GiB of KV cache (VLLM_CPU_KVCACHE_SPACE)."),
    python: Optional[Path] = typer.Option(None, "--python", help="Python of the vLLM virtualenv (default $SKILLSTACK_VLLM_PYTHON or .venv-vllm)."),
    sync_seconds: float = typer.Option(2.0, "--sync-seconds", min=0.1, help="How often skill folders are re-scanned for added or removed skills."),
) -> None:
    """Serve the base model ('base') and every local skill on vLLM; skill folders added later are loaded while it runs."""
    from skillstack.skills.vllm_server import VllmOptions, VllmServer

    settings = settings_from(ctx)
    extra: dict[str, Any] = {"python": python} if python else {}
    options = VllmOptions(port=port, max_loras=max_loras, max_lora_rank=max_lora_rank, max_model_len=max_model_len,
                          kv_cache_gb=kv_cache_gb, **extra)
    stop = threading.Event()
    server = VllmServer(settings, options)
    # SIGTERM ends the loop like Ctrl-C does, so the server's group is always stopped on the way out.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _say(f"starting vLLM (log: {server.log}) ...")
        with server:
            _say(f"vLLM serves base + {len(server.loaded)} skills ({', '.join(server.loaded) or 'none'}) at "
                 f"{server.url}\npoint the skills at it: skill_server = \"{server.url}\" in config.toml, or "
                 f"SKILLSTACK_SKILL_SERVER={server.url}")
            try:
                server.watch(sync_seconds, stop, _say)
            except KeyboardInterrupt:
                pass
        _say("vLLM stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)
