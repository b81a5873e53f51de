"""The repair loop: DPO on a skill's own graded failures, kept only if the eval gate says it helped.

`repair_skill` samples the trained skill on fresh prompts, grades every output with the given grader,
turns each prompt with a failing output into a preference pair (preferred: the best passing sample,
else the prompt's own `reference` when that passes the grader; non-preferred: the worst failing
sample), runs DPO starting from the skill's adapter (DPO's reference model is that adapter, so the
update is measured from the SFT skill, not from the base), then compares the skill before and after
on an eval file with the same grader. The repaired folder replaces the destination only when its
mean score is higher. What `skillstack train repair` runs. Not here: sampling (eval_answers), DPO
itself (dpo.py), the graders.
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstack.errors import TrainingError
from skillstack.settings import Settings
from .dpo import DPOConfig
from .eval_answers import Output, Prompt


@dataclass(kw_only=True)
class RepairPlan:
    """How a repair run samples, pairs and gates."""

    samples: int = field(default=4, metadata={"help": "Outputs sampled per prompt."})
    temperature: float = field(default=0.8, metadata={"help": "Sampling temperature (the failures to repair need variety)."})
    threshold: float = field(default=1.0, metadata={"help": "Grader score an output needs to pass."})
    max_tokens: int = field(default=256, metadata={"help": "Tokens per sampled or evaluated output."})
    eval_limit: int | None = field(default=None, metadata={"help": "Eval-file items the gate scores (None: all)."})


def preference_pairs(items: list[tuple[Prompt, dict[str, Any]]], outputs: list[list[Output]], grader: Any,
                     *, threshold: float) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """OpenAI DPO examples from graded samples, and counts: prompts, failing (had a failure), paired, no_preferred."""
    from .evaluate import as_sample

    pairs: list[dict[str, Any]] = []
    counts = {"prompts": len(items), "failing": 0, "paired": 0, "no_preferred": 0}
    for (prompt, item), samples in zip(items, outputs, strict=True):
        scored = sorted(((grader.grade(as_sample(o), item), o.text) for o in samples if o.error is None),
                        key=lambda pair: pair[0])
        failing = [text for score, text in scored if score < threshold]
        if not failing:
            continue
        counts["failing"] += 1
        passing = [text for score, text in scored if score >= threshold]
        preferred = passing[-1] if passing else None
        reference = item.get("reference")
        if preferred is None and isinstance(reference, str) and \
                grader.grade({"output_text": reference, "output_json": None}, item) >= threshold:
            preferred = reference
        if preferred is None:
            counts["no_preferred"] += 1
            continue
        messages = [{"role": role, "content": content} for role, content in prompt if role != "system"]
        pairs.append({"input": {"messages": messages}, "preferred_output": [{"role": "assistant", "content": preferred}],
                      "non_preferred_output": [{"role": "assistant", "content": failing[0]}]})
        counts["paired"] += 1
    return pairs, counts


def mean_score(settings: Settings, skill_name: str, items: list[tuple[Prompt, dict[str, Any]]], grader: Any,
               *, max_tokens: int) -> float:
    """The skill's mean grader score on items, decoded greedily (the gate's number)."""
    from .eval_answers import generate_outputs
    from .evaluate import as_sample

    outputs = generate_outputs(settings, skill_name, [prompt for prompt, _ in items], max_tokens=max_tokens)
    return statistics.fmean(grader.grade(as_sample(o), item) for o, (_, item) in zip(outputs, items, strict=True))


def repair_skill(settings: Settings, skill_name: str, prompts_file: Path, grader_spec: dict[str, Any], *,
                 eval_file: Path, output_dir: Path, plan: RepairPlan, dpo: DPOConfig, progress: bool = True) -> dict[str, Any]:
    """Sample, grade, pair, DPO from the skill's adapter, gate on eval_file; returns the report (kept or not)."""
    from skillstack.io import atomic_write_json
    from skillstack.settings import with_overrides
    from skillstack.skills.manifest import load_manifest
    from skillstack.skills.runtime import get_runtime
    from .data.jsonl import write_jsonl
    from .dpo import train_dpo
    from .eval_answers import generate_outputs
    from .evaluate import heldout_items
    from .graders import build_grader
    from .methods import TrainJob
    from .skill_writer import SkillSpec, publish_skill

    grader = build_grader(grader_spec, settings=settings)
    skill = get_runtime(settings).skill(skill_name)
    items, _ = heldout_items(prompts_file, None)
    prompts = [prompt for prompt, _ in items for _ in range(plan.samples)]
    flat = generate_outputs(settings, skill_name, prompts, max_tokens=plan.max_tokens, temperature=plan.temperature,
                            progress=progress, label=f"{skill_name} samples")
    outputs = [flat[i * plan.samples:(i + 1) * plan.samples] for i in range(len(items))]
    pairs, counts = preference_pairs(items, outputs, grader, threshold=plan.threshold)
    if not pairs:
        raise TrainingError(f"{prompts_file}: no preference pair to train on ({counts['failing']} prompt(s) with a "
                            f"failing output, {counts['no_preferred']} without a passing one); nothing to repair")
    work = settings.home / "repair" / skill_name
    shutil.rmtree(work, ignore_errors=True)
    pairs_file = work / "pairs.jsonl"
    write_jsonl(pairs_file, pairs)
    manifest = load_manifest(skill.path)
    spec = SkillSpec(suffix=manifest.name, kind=manifest.kind, description=manifest.description,
                     system_prompt=manifest.system_prompt, routing_examples=list(manifest.routing_examples),
                     output=manifest.output, schema_file=skill.path / manifest.schema if manifest.schema else None)
    dpo.init_adapter = str(skill.path)
    staged = train_dpo(settings, TrainJob(train_file=pairs_file, output_dir=work / "staging" / skill_name, config=dpo,
                                          skill=spec, progress=progress))
    gate_items, _ = heldout_items(eval_file, plan.eval_limit)
    before = mean_score(settings, skill_name, gate_items, grader, max_tokens=plan.max_tokens)
    after = mean_score(with_overrides(settings, skills_dirs=(work / "staging", *settings.skills_dirs)), skill_name,
                       gate_items, grader, max_tokens=plan.max_tokens)
    report = {"skill": skill_name, "prompts_file": str(prompts_file), "samples_per_prompt": plan.samples, **counts,
              "eval_file": str(eval_file), "eval_items": len(gate_items), "grader": grader_spec.get("name", grader_spec.get("type")),
              "before": round(before, 4), "after": round(after, 4), "kept": after > before,
              "output": str(output_dir) if after > before else None}
    if report["kept"]:
        repaired = load_manifest(staged)
        repaired.provenance["repair"] = {k: v for k, v in report.items() if k != "output"} | {
            "started_from": manifest.provenance.get("model_id", skill_name), "start_method": manifest.provenance.get("method")}
        publish_skill(output_dir, repaired, keep_from=staged)
    atomic_write_json(work / "report.json", report)
    shutil.rmtree(work / "staging", ignore_errors=True)
    return report


__all__ = ["RepairPlan", "mean_score", "preference_pairs", "repair_skill"]
