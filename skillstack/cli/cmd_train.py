"""`skillstack train <method>`: train a LoRA skill from a dataset, configured by a file and/or flags.

One subcommand per registered training method (skillstack.training.methods), with the flags every
method shares (dataset, skill description, --config, --set) plus one flag per field of the method's
config dataclass, its help text from the field's metadata (as TRL builds flags from SFTConfig):
a bool field is --name/--no-name, a table field (rft's grader) names a JSON/TOML file, any other
field takes a value read like --set (JSON when it parses, else text, so --n-epochs auto works).

The config file (TOML or JSON) holds hyperparameters at the top level (the method's config
fields) and the skill's description in a `[skill]` table (SkillSpec's fields: suffix, kind,
description, system_prompt, routing_examples, output, schema_file); flags override the file.
The dataset is validated before any model loads.

`train embedder` is not a skill method (it trains the retrieval embedder on the ingested store, from
no dataset file, into no skill folder), so it is its own command beside the methods' ones.
"""

from __future__ import annotations

import inspect
import json
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer

from skillstack.coerce import coerce_field, field_types, type_name
from skillstack.errors import ConfigError
from .common import JSON_OPTION, emit, settings_from

if TYPE_CHECKING:
    from skillstack.training.methods import TrainingMethod
    from skillstack.training.skill_writer import SkillSpec



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


def flag_value(raw: str) -> Any:
    """A flag's text as JSON when it parses (numbers, lists, true), else as the text itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """--set key=value pairs; values are read as JSON when they parse (numbers, lists), else as text."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set lora_r=16")
        values[key.strip()] = flag_value(raw)
    return values


def build_run(method: str, file_data: dict[str, Any], flags: dict[str, Any], origin: str) -> tuple[Any, SkillSpec]:
    """(method config, skill spec) from a config file's data overridden by flags (None or [] = unset)."""
    from skillstack.training.config import config_from_mapping
    from skillstack.training.methods import get_method
    from skillstack.training.skill_writer import SkillSpec

    skill_keys = [f.name for f in fields(SkillSpec)]
    data = dict(file_data)
    skill = data.pop("skill", {})
    if not isinstance(skill, dict):
        raise ConfigError(f"{origin}: [skill] must be a table of {', '.join(skill_keys)}")
    unknown = set(skill) - set(skill_keys)
    if unknown:
        raise ConfigError(f"{origin}: unknown [skill] key(s) {', '.join(sorted(unknown))}; known: {', '.join(skill_keys)}")
    for key, value in flags.items():
        if value is None or value == []:
            continue
        (skill if key in skill_keys else data)[key] = value
    config = config_from_mapping(get_method(method).config_cls, data, origin=origin)
    if not skill.get("suffix"):
        raise ConfigError("a skill name is needed: pass --suffix NAME or set suffix in the config's [skill] table")
    spec = SkillSpec(**{key: coerce_field(SkillSpec, key, value, origin=origin, label="[skill] key")
                        for key, value in skill.items()})
    return config, spec


def _summary_text(result: dict[str, Any]) -> str:
    metrics = result["metrics"]
    numbers = ", ".join(f"{k}={v}" for k, v in metrics.items())
    return f"trained {result['model_id']} -> {result['skill']}\n  {numbers}"


def _common_parameters() -> list[inspect.Parameter]:
    """The parameters every `train <method>` takes, before the method's config flags."""
    options = [
        ("ctx", typer.Context, inspect.Parameter.empty),
        ("train_file", Path, typer.Argument(..., help="Training JSONL (validated before anything loads).")),
        ("validation_file", Optional[Path], typer.Option(None, "--validation-file", help="Validation JSONL: validation loss and early stopping.")),
        ("config_file", Optional[Path], typer.Option(None, "--config", help="TOML/JSON file: hyperparameters, plus a 'skill' table.")),
        ("suffix", Optional[str], typer.Option(None, "--suffix", help="Skill name; the model id becomes base:suffix.")),
        ("output", Optional[Path], typer.Option(None, "--output", help="Skill folder to write; default $SKILLSTACK_HOME/skills/<suffix>.")),
        ("kind", Optional[str], typer.Option(None, "--kind", help="tone | format | reasoning | classify | other.")),
        ("label", list[str], typer.Option([], "--label", help="classify skills: one label the answer may be (repeat for each).")),
        ("description", Optional[str], typer.Option(None, "--description", help="What the skill does (routers read it).")),
        ("system_prompt", Optional[str], typer.Option(None, "--system-prompt", help="System prompt trained with and used at inference.")),
        ("routing_example", list[str], typer.Option([], "--routing-example", help="A sample task for the router (repeatable).")),
        ("output_format", Optional[str], typer.Option(None, "--output-format", help="text | json (json needs --schema).")),
        ("schema", Optional[Path], typer.Option(None, "--schema", help="JSON Schema file for json skills.")),
        ("assignments", list[str], typer.Option([], "--set", help="Any config field as key=value (repeatable), e.g. --set save_every=20.")),
        ("nproc", int, typer.Option(1, "--nproc", min=1, help="Data-parallel training processes on this machine (torchrun: gloo on CPU, nccl with one GPU each); sft only.")),
        ("no_progress", bool, typer.Option(False, "--no-progress", help="No progress bar.")),
        ("as_json", bool, JSON_OPTION),
    ]
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default)
            for name, hint, default in options]


def _config_parameters(method: TrainingMethod, common: list[inspect.Parameter]) -> list[inspect.Parameter]:
    """One option per field of the method's config, typed and helped from the field."""
    taken = {p.name for p in common} | {flag for p in common for flag in getattr(p.default, "param_decls", None) or ()}
    parameters = []
    hints = field_types(method.config_cls)
    for item in fields(method.config_cls):
        flag, text = "--" + item.name.replace("_", "-"), item.metadata["help"]
        if item.name in taken or flag in taken:
            raise ConfigError(f"training method {method.name!r}: config field '{item.name}' clashes with "
                              f"a flag every method has; rename the field")
        hint = hints[item.name]
        if hint is bool:
            annotation, option = Optional[bool], typer.Option(None, f"{flag}/--no-{flag[2:]}", help=text)
        elif hint is dict or getattr(hint, "__origin__", None) is dict:
            annotation, option = Optional[Path], typer.Option(None, flag, help=f"{text} (a JSON/TOML file)")
        else:
            metavar = type_name(hint).replace(" or ", "|").replace("'", "").replace("a list of ", "list of ")
            annotation, option = Optional[str], typer.Option(None, flag, help=text, metavar=metavar)
        parameters.append(inspect.Parameter(item.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                            default=option))
    return parameters


def _print_advice(train_file: Path, kind: str | None) -> None:
    """The dataset advisor's warnings (knowledge in answers, tables, imbalance...) on stderr, before any training."""
    from skillstack.training.data.advise import advise_file

    for advice in advise_file(train_file, kind=kind):
        if advice.severity == "warning":
            typer.echo(f"advice: {advice}", err=True)


def _train_data_parallel(settings: Any, method: str, job: Any, nproc: int) -> Path:
    """`--nproc N`: the dataset checked here once, then N torchrun workers train it (training/distributed.py)."""
    from skillstack.training.distributed import launch
    from skillstack.training.inputs import load_job_examples

    if method != "sft":
        raise ConfigError(f"--nproc {nproc}: data-parallel training is implemented for sft; train {method} with --nproc 1")
    load_job_examples(job)
    return launch(settings, method, job, nproc)


def _make_command(method: TrainingMethod) -> Callable[..., None]:
    """The `train <method>` command; its signature (what typer reads) is built from the method's config."""
    common = _common_parameters()
    config_params = _config_parameters(method, common)
    file_fields = {p.name for p in config_params if p.annotation == Optional[Path]}

    def command(*, ctx: typer.Context, train_file: Path, validation_file: Optional[Path], config_file: Optional[Path],
                suffix: Optional[str], output: Optional[Path], kind: Optional[str], label: list[str], description: Optional[str],
                system_prompt: Optional[str], routing_example: list[str], output_format: Optional[str],
                schema: Optional[Path], assignments: list[str], nproc: int, no_progress: bool, as_json: bool,
                **config_flags: Any) -> None:
        from skillstack.training.methods import TrainJob

        settings = settings_from(ctx)
        file_data = read_config_file(config_file) if config_file else {}
        flags: dict[str, Any] = {
            "suffix": suffix, "kind": kind, "description": description, "system_prompt": system_prompt,
            "routing_examples": routing_example, "output": output_format, "schema_file": str(schema) if schema else None,
            "labels": label,
        }
        for name, value in config_flags.items():
            if value is not None:
                flags[name] = (read_config_file(value) if name in file_fields
                               else value if isinstance(value, bool) else flag_value(value))
        flags.update(parse_assignments(assignments))
        config, spec = build_run(method.name, file_data, flags, str(config_file or "flags"))
        job = TrainJob(train_file=train_file, validation_file=validation_file, config=config, skill=spec,
                       output_dir=output or settings.user_skills_dir / spec.suffix, progress=not no_progress)
        _print_advice(train_file, spec.kind)
        if nproc > 1:
            result_folder = _train_data_parallel(settings, method.name, job, nproc)
        else:
            result_folder = method.train(settings, job)
        from skillstack.skills.manifest import load_manifest

        manifest = load_manifest(result_folder)
        emit({"skill": str(result_folder), "name": manifest.name, "model_id": manifest.provenance.get("model_id"),
              "metrics": manifest.provenance.get("metrics", {}), "hyperparameters": manifest.provenance.get("hyperparameters", {})},
             as_json, _summary_text)

    parameters = common + config_params
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = method.help
    return command


def _embedder_summary(result: dict[str, Any]) -> str:
    lines = [f"trained {result['name']} on {result['pairs']} pairs (final loss {result['final_loss']}) -> {result['folder']}"]
    if result["reembedded"] is None:
        lines.append(f"store not re-embedded: set embedding_model = \"{result['folder']}\" and run `skillstack reembed`")
    else:
        lines.append(f"re-embedded {result['reembedded']} chunks; embedding_model = \"{result['folder']}\" saved in {result['config']}")
    return "\n".join(lines)


def train_embedder_command(
    ctx: typer.Context,
    name: str = typer.Option("corpus-embedder", "--name", help="Embedder name; the folder is home/embedders/<name>-v<N>."),
    epochs: int = typer.Option(1, "--epochs", min=1, help="Passes over the synthetic pairs."),
    batch_size: int = typer.Option(32, "--batch-size", min=2, help="Pairs per batch (in-batch negatives)."),
    learning_rate: float = typer.Option(2e-5, "--learning-rate", min=0.0, help="AdamW learning rate."),
    generate_questions: int = typer.Option(0, "--generate-questions", min=0, help="Questions the base model writes per chunk (slow); 0 = from titles only."),
    max_pairs: int = typer.Option(0, "--max-pairs", min=0, help="Train on at most this many pairs; 0 = all."),
    reembed: bool = typer.Option(True, "--reembed/--no-reembed", help="Re-embed the store with the new model and save it as embedding_model."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fine-tune the embedder on your ingested store (synthetic questions from its own titles), then re-embed the store."""
    import json as json_module

    from skillstack.retrieval.embeddings import EMBEDDER_MANIFEST
    from skillstack.retrieval.ingest import reembed_store
    from skillstack.settings import save_setting, with_overrides
    from skillstack.training.embedder import EmbedderConfig, train_embedder

    settings = settings_from(ctx)
    config = EmbedderConfig(name=name, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                            generate_questions=generate_questions, max_pairs=max_pairs)
    folder = train_embedder(settings, config, progress=not no_progress)
    manifest = json_module.loads((folder / EMBEDDER_MANIFEST).read_text(encoding="utf-8"))
    result = {"folder": str(folder), "name": manifest["name"], "pairs": manifest["pairs"],
              "final_loss": manifest["final_loss"], "reembedded": None, "config": None}
    if reembed:
        trained = with_overrides(settings, embedding_model=str(folder))
        result["reembedded"] = reembed_store(trained, progress=not no_progress)
        # The store now answers only to this embedder: the home's config must name it too.
        result["config"] = str(save_setting(settings, "embedding_model", folder))
    emit(result, as_json, _embedder_summary)
def repair(
    ctx: typer.Context,
    skill: str = typer.Argument(..., help="The trained skill to repair (its adapter is DPO's starting point)."),
    prompts: Path = typer.Option(..., "--prompts", help="Fresh prompts (chat or reinforcement JSONL; a `reference` answer may serve as preferred)."),
    grader: Path = typer.Option(..., "--grader", help="Grader spec (JSON/TOML): what passing means."),
    eval_file: Optional[Path] = typer.Option(None, "--eval", help="The gate's held-out JSONL; default the skill's heldout.jsonl."),
    output: Optional[Path] = typer.Option(None, "--output", help="Where a kept repair goes; default $SKILLSTACK_HOME/skills/<skill>."),
    samples: int = typer.Option(4, "--samples", min=1, help="Outputs sampled per prompt."),
    temperature: float = typer.Option(0.8, "--temperature", min=0.0, help="Sampling temperature."),
    threshold: float = typer.Option(1.0, "--threshold", help="Grader score an output needs to pass."),
    max_tokens: int = typer.Option(256, "--max-tokens", min=1, help="Tokens per output."),
    eval_limit: Optional[int] = typer.Option(None, "--eval-limit", min=1, help="Score only the first N eval items."),
    assignments: list[str] = typer.Option([], "--set", help="A DPO config field as key=value (repeatable), e.g. --set max_steps=20."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Repair a skill: sample it, grade it, DPO on its failures from its own adapter; kept only if the eval gate improves."""
    from skillstack.errors import InputError
    from skillstack.skills.runtime import get_runtime
    from skillstack.training.config import config_from_mapping
    from skillstack.training.dpo import DPOConfig
    from skillstack.training.repair import RepairPlan, repair_skill

    settings = settings_from(ctx)
    gate = eval_file or get_runtime(settings).skill(skill).path / "heldout.jsonl"
    if not gate.is_file():
        raise InputError(f"{gate}: no eval file for the gate; pass --eval FILE")
    dpo = config_from_mapping(DPOConfig, parse_assignments(assignments), origin="--set")
    report = repair_skill(settings, skill, prompts, read_config_file(grader), eval_file=gate,
                          output_dir=output or settings.user_skills_dir / skill, dpo=dpo, progress=not no_progress,
                          plan=RepairPlan(samples=samples, temperature=temperature, threshold=threshold,
                                          max_tokens=max_tokens, eval_limit=eval_limit))
    emit(report, as_json, lambda r: (f"repair {r['skill']}: {r['paired']} pair(s) from {r['failing']} failing prompt(s) of "
                                     f"{r['prompts_file']}; gate {r['before']} -> {r['after']}: "
                                     + (f"kept in {r['output']}" if r["kept"] else "not kept (no improvement)")))


def build_app() -> typer.Typer:
    """The `train` group: one `train <method>` per registered training method (built-ins and plugins alike), and `repair`."""
    from skillstack.training.methods import training_methods

    group = typer.Typer(name="train", help="Train a LoRA skill on the base model with one of the registered methods below.",
                        no_args_is_help=True)
    for name, method in training_methods().items():
        group.command(name)(_make_command(method))
    group.command("embedder")(train_embedder_command)
    group.command("repair")(repair)
    return group


app = build_app()
