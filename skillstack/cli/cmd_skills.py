"""CLI commands for skills: `skills list|show|check`, `run SKILL TEXT` (incl. `run base`) and `serve`.

Models load once per invocation (batch mode included); heavy imports stay inside the commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer

from .common import INPUT_OPTION, JSON_OPTION, emit, run_inputs, settings_from

# `run` and `serve` are top-level commands; list, show and check form the `skills` group.
app = typer.Typer()
skills_app = typer.Typer(name="skills", help="List, inspect and check skills (LoRA adapters and remote fine-tunes).",
                         no_args_is_help=True)
app.add_typer(skills_app)


def _human_list(data: dict[str, Any]) -> str:
    lines = [f"{s['name']:<28} {s['kind']:<10} {s['backend']:<18} {s['description']}{_override_mark(s)}"
             for s in data["skills"]]
    if not lines:
        lines.append("no skills found (drop skill folders into $SKILLSTACK_HOME/skills)")
    for rejected in data["rejected"]:
        lines.append(f"rejected: {rejected['path']}: {rejected['reason']}")
    return "\n".join(lines)


def _override_mark(skill: dict[str, Any]) -> str:
    """" [overrides bundled]": a folder that shadows another of the same name says so in the listing."""
    sources = sorted({shadowed["source"] for shadowed in skill.get("overrides", [])})
    return f"  [overrides {', '.join(sources)}]" if sources else ""


def _human_skill(data: dict[str, Any]) -> str:
    keys = ("name", "kind", "backend", "output", "base_model", "model", "path", "source", "description", "promoted")
    lines = [f"{key:<12} {data[key]}" for key in keys if data.get(key) not in (None, "")]
    if data.get("labels"):
        lines.append(f"{'labels':<12} {', '.join(data['labels'])}")
    lines += [f"overrides    {shadowed['source']} {shadowed['path']} (this {data['source']} folder won)"
              for shadowed in data.get("overrides", [])]
    lines += [f"example      {example}" for example in data.get("routing_examples", [])]
    return "\n".join(lines)


def _result(skill: str, message: Any) -> dict[str, Any]:
    result = {"skill": skill, "output": message.content, "parsed": message.response_metadata.get("parsed")}
    if "label" in message.response_metadata:  # a classify skill's answer
        result["label"] = message.response_metadata["label"]
    return result


@skills_app.command("list")
def list_skills(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every discovered skill, and every rejected folder with the reason."""
    from skillstack.skills.registry import discover_skills

    emit(discover_skills(settings_from(ctx)).to_dict(), as_json, _human_list)


@skills_app.command("show")
def show(ctx: typer.Context, name: str = typer.Argument(..., help="Skill name."), as_json: bool = JSON_OPTION) -> None:
    """One skill's manifest summary."""
    from skillstack.skills.runtime import get_runtime

    skill = get_runtime(settings_from(ctx)).skill(name)
    data = skill.to_dict() | {"system_prompt": skill.manifest.system_prompt,
                              "generation": vars(skill.manifest.generation), "provenance": skill.manifest.provenance}
    emit(data, as_json, _human_skill)


@skills_app.command("check")
def check(ctx: typer.Context, path: Path = typer.Argument(..., help="A skill folder."), as_json: bool = JSON_OPTION) -> None:
    """Check a skill folder (manifest, files, schema, base model) without loading it; exit 2 with the reason."""
    from skillstack.models import base_model_id
    from skillstack.skills.registry import inspect_skill

    skill = inspect_skill(path, base_model=base_model_id(settings_from(ctx)))
    emit({"ok": True} | skill.to_dict(), as_json, lambda d: f"ok: {d['name']} ({d['kind']}, {d['backend']}) at {d['path']}")


@app.command("run")
def run(
    ctx: typer.Context,
    skill: str = typer.Argument(..., help="Skill name, or 'base' for the base model without adapter."),
    text: Optional[str] = typer.Argument(None, help="The user message."),
    input_file: Optional[Path] = INPUT_OPTION,
    as_json: bool = JSON_OPTION,
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, help="0 = greedy (default: the skill's)."),
    top_p: Optional[float] = typer.Option(None, "--top-p", min=0.0, max=1.0, help="Nucleus mass when sampling."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Most new tokens."),
    stop: Optional[list[str]] = typer.Option(None, "--stop", help="Stop string (repeatable)."),
    system: Optional[str] = typer.Option(None, "--system", help="Replace the skill's system prompt."),
) -> None:
    """Run one skill on TEXT (or every line of --input) and print its answer."""
    from skillstack.skills.runtime import chat_model

    def answer(texts: list[str]) -> Iterator[Any]:
        # Built only once the inputs are known good: a local skill loads the base model here.
        model = chat_model(settings_from(ctx), skill, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                           stop=stop or None, system_prompt=system)
        for message in model.batch(texts, return_exceptions=True):  # one failing item fails only its line
            yield message if isinstance(message, BaseException) else _result(skill, message)

    run_inputs(text, input_file, "text", answer, as_json=as_json, human=lambda d: d["output"])


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Serve without API keys (loopback only)."),
    cors_origin: Optional[list[str]] = typer.Option(None, "--cors-origin", help="Allow this browser origin (repeatable); CORS is off without."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens-limit", min=1, help="Most tokens one answer may ask for (default: the model's context)."),
    max_messages: int = typer.Option(256, "--max-messages", min=1, help="Most messages in one chat request."),
    max_pending: int = typer.Option(64, "--max-pending", min=1, help="Chat requests in flight at once; more get a 429."),
) -> None:
    """Serve the local skills over an OpenAI-compatible HTTP API (keys from `skillstack keys create` or $SKILLSTACK_API_KEYS)."""
    from skillstack.skills.server import ServerOptions, serve as run_server

    options = ServerOptions(auth=not no_auth, cors_origins=tuple(cors_origin or ()), max_completion_tokens=max_tokens,
                            max_messages=max_messages, max_pending=max_pending)
    run_server(settings_from(ctx), host=host, port=port, options=options)
