"""`skillstack train sft|dpo|rft`: train a LoRA skill from a dataset, configured by a file and/or flags.

The config file (TOML or JSON) holds hyperparameters at the top level (the method's config
fields) and the skill's description in a `[skill]` table (suffix, kind, description,
system_prompt, routing_examples, output, schema_file); flags override the file.
The dataset is validated before any model loads.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from skillstack.errors import ConfigError
from .common import JSON_OPTION, emit, settings_from

app = typer.Typer(name="train", help="Train a LoRA skill on the base model: sft (chat), dpo (preference pairs), rft (graders).",
                  no_args_is_help=True)

SKILL_KEYS = ("suffix", "kind", "description", "system_prompt", "routing_examples", "output", "schema_file")
METHOD_HELP = {"sft": "Supervised fine-tuning on OpenAI chat JSONL (loss on assistant tokens).",
               "dpo": "Direct preference optimisation on OpenAI DPO JSONL (preferred / non-preferred outputs).",
               "rft": "Reinforcement fine-tuning on reinforcement JSONL, rewarded by a grader (--grader FILE)."}


def read_config_file(path: Path) -> dict[str, Any]:
    """A TOML or JSON config file as a mapping; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'} ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a table/object of settings")
    return data


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """--set key=value pairs; values are read as JSON when they parse (numbers, lists), else as text."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set lora_r=16")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


def build_run(method: str, file_data: dict[str, Any], flags: dict[str, Any], origin: str) -> tuple[Any, dict[str, Any]]:
    """(method config, skill keyword arguments) from a config file's data overridden by flags (None = unset)."""
    from skillstack.training.config import CONFIG_CLASSES, config_from_mapping

    data = dict(file_data)
    skill = data.pop("skill", {})
    if not isinstance(skill, dict):
        raise ConfigError(f"{origin}: [skill] must be a table of {', '.join(SKILL_KEYS)}")
    unknown = set(skill) - set(SKILL_KEYS)
    if unknown:
        raise ConfigError(f"{origin}: unknown [skill] key(s) {', '.join(sorted(unknown))}; known: {', '.join(SKILL_KEYS)}")
    for key, value in flags.items():
        if value is None or value == []:
            continue
        (skill if key in SKILL_KEYS else data)[key] = value
    config = config_from_mapping(CONFIG_CLASSES[method], data, origin=origin)
    if not skill.get("suffix"):
        raise ConfigError("a skill name is needed: pass --suffix NAME or set suffix in the config's [skill] table")
    kwargs = {"suffix": skill["suffix"], "skill_kind": skill.get("kind", "other"),
              "description": skill.get("description", ""), "system_prompt": skill.get("system_prompt", ""),
              "routing_examples": list(skill.get("routing_examples", [])), "output": skill.get("output", "text"),
              "schema_file": Path(skill["schema_file"]) if skill.get("schema_file") else None}
    return config, kwargs


def trainer(method: str) -> Callable[..., Path]:
    if method == "sft":
        from skillstack.training.sft import train_sft

        return train_sft
    if method == "dpo":
        from skillstack.training.dpo import train_dpo

        return train_dpo
    from skillstack.training.rft import train_rft

    return train_rft


def _summary_text(result: dict[str, Any]) -> str:
    metrics = result["metrics"]
    numbers = ", ".join(f"{k}={v}" for k, v in metrics.items())
    return f"trained {result['model_id']} -> {result['skill']}\n  {numbers}"


def _make_command(method: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        train_file: Path = typer.Argument(..., help="Training JSONL (validated before anything loads)."),
        validation_file: Optional[Path] = typer.Option(None, "--validation-file", help="Validation JSONL: validation loss and early stopping."),
        config_file: Optional[Path] = typer.Option(None, "--config", help="TOML/JSON file: hyperparameters, plus a 'skill' table."),
        suffix: Optional[str] = typer.Option(None, "--suffix", help="Skill name; the model id becomes base:suffix."),
        output: Optional[Path] = typer.Option(None, "--output", help="Skill folder to write; default $SKILLSTACK_HOME/skills/<suffix>."),
        kind: Optional[str] = typer.Option(None, "--kind", help="tone | format | reasoning | other."),
        description: Optional[str] = typer.Option(None, "--description", help="What the skill does (routers read it)."),
        system_prompt: Optional[str] = typer.Option(None, "--system-prompt", help="System prompt trained with and used at inference."),
        routing_example: list[str] = typer.Option([], "--routing-example", help="A sample task for the router (repeatable)."),
        output_format: Optional[str] = typer.Option(None, "--output-format", help="text | json (json needs --schema)."),
        schema: Optional[Path] = typer.Option(None, "--schema", help="JSON Schema file for json skills."),
        grader: Optional[Path] = typer.Option(None, "--grader", help="rft only: grader spec JSON file (OpenAI grader format)."),
        n_epochs: Optional[str] = typer.Option(None, "--n-epochs", help="Epochs or 'auto'."),
        batch_size: Optional[str] = typer.Option(None, "--batch-size", help="Batch size or 'auto'."),
        learning_rate_multiplier: Optional[str] = typer.Option(None, "--learning-rate-multiplier", help="Multiplier or 'auto'."),
        lora_r: Optional[int] = typer.Option(None, "--lora-r", help="LoRA rank."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after N optimizer steps."),
        assignments: list[str] = typer.Option([], "--set", help="Any config field as key=value (repeatable), e.g. --set save_every=20."),
        no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        settings = settings_from(ctx)
        file_data = read_config_file(config_file) if config_file else {}
        flags: dict[str, Any] = {
            "suffix": suffix, "kind": kind, "description": description, "system_prompt": system_prompt,
            "routing_examples": routing_example, "output": output_format, "schema_file": str(schema) if schema else None,
            "n_epochs": n_epochs, "batch_size": batch_size, "learning_rate_multiplier": learning_rate_multiplier,
            "lora_r": lora_r, "seed": seed, "max_steps": max_steps, **parse_assignments(assignments),
        }
        if grader is not None:
            if method != "rft":
                raise ConfigError(f"--grader is for `train rft`; `train {method}` learns from the dataset itself")
            flags["grader"] = read_config_file(grader)
        config, skill = build_run(method, file_data, flags, str(config_file or "flags"))
        folder = output or settings.user_skills_dir / skill["suffix"]
        result_folder = trainer(method)(settings, train_file, output_dir=folder, config=config,
                                        validation_file=validation_file, progress=not no_progress, **skill)
        from skillstack.skills.manifest import load_manifest

        manifest = load_manifest(result_folder)
        emit({"skill": str(result_folder), "name": manifest.name, "model_id": manifest.provenance.get("model_id"),
              "metrics": manifest.provenance.get("metrics", {}), "hyperparameters": manifest.provenance.get("hyperparameters", {})},
             as_json, _summary_text)

    command.__doc__ = METHOD_HELP[method]
    return command


for _method in ("sft", "dpo", "rft"):
    app.command(_method)(_make_command(_method))
