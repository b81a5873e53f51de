"""`skillstack vllm`'s pure parts: the command line, the served LoRA rank, and refusals before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.errors import ConfigError
from skillstack.skills.vllm_server import VllmOptions, adapter_rank, served_rank, vllm_command


def _adapter(folder: Path, rank: object) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank, "peft_type": "LORA"}))
    return folder


def test_command_serves_the_base_as_base_on_loopback_with_every_adapter_as_a_json_lora_module(tmp_path):
    adapters = {"tone=a": _adapter(tmp_path / "a=b", 8), "status": _adapter(tmp_path / "s", 4)}
    command = vllm_command(VllmOptions(python=Path("/venv/bin/python"), port=8123), tmp_path / "model", adapters, rank=16)
    assert command[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    flag = {name: command[i + 1] for i, name in enumerate(command) if name.startswith("--") and i + 1 < len(command)}
    assert (flag["--host"], flag["--port"], flag["--served-model-name"]) == ("127.0.0.1", "8123", "base")
    assert (flag["--dtype"], flag["--max-lora-rank"], flag["--max-model-len"]) == ("float32", "16", "2048")
    assert json.loads(flag["--structured-outputs-config"])["disable_any_whitespace"] is True
    assert "--enable-lora" in command
    modules = [json.loads(item) for item in command[command.index("--lora-modules") + 1:]]
    assert modules == [{"name": "tone=a", "path": str(tmp_path / "a=b")}, {"name": "status", "path": str(tmp_path / "s")}]


def test_command_without_adapters_has_no_lora_modules_flag(tmp_path):
    assert "--lora-modules" not in vllm_command(VllmOptions(python=Path("py")), tmp_path, {}, rank=16)


@pytest.mark.parametrize(("ranks", "requested", "served"), [([4, 8], 0, 16), ([24], 0, 32), ([], 0, 16), ([8], 8, 8),
                                                             ([8], 100, 128)])
def test_served_rank_is_the_largest_with_headroom_rounded_up_to_a_rank_vllm_accepts(ranks, requested, served):
    assert served_rank(ranks, requested) == served


def test_a_rank_beyond_vllm_is_refused_with_what_to_do():
    with pytest.raises(ConfigError, match="retrain with a smaller r"):
        served_rank([1024])


@pytest.mark.parametrize("rank", ["8", 0, None])
def test_an_adapter_config_without_a_usable_rank_names_its_file(tmp_path, rank):
    folder = _adapter(tmp_path / "bad", rank)
    with pytest.raises(ConfigError, match="adapter_config.json"):
        adapter_rank(folder)


def test_cli_without_a_vllm_virtualenv_is_one_line_naming_make_vllm_setup(tmp_path, capsys, monkeypatch):
    from skillstack.cli.main import main

    monkeypatch.setenv("SKILLSTACK_HOME", str(tmp_path))
    assert main(["vllm", "--python", str(tmp_path / "no-python")]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: no vLLM python at") and "make vllm-setup" in error


def test_a_port_already_in_use_is_refused_before_vllm_starts(tmp_path):
    import socket
    import sys

    from skillstack.settings import load_settings
    from skillstack.skills.vllm_server import VllmServer

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = VllmServer(load_settings(tmp_path), VllmOptions(python=Path(sys.executable), port=port))
        with pytest.raises(ConfigError, match=f"port {port} .* already in use"):
            server.start()
