"""Eval cards and the one skill-folder writer: several metrics per condition, baselines with their own
system prompt, tolerant loading, the bundled cards in step, and the manifest written once per folder."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from skillstack.errors import SkillError
from skillstack.skills.manifest import SkillManifest, load_manifest
from skillstack.skills.registry import BUNDLED_DIR
from skillstack.training.demo_skills import DEMO_SKILLS
from skillstack.training.eval_card import (
    EVAL_CARD_FILE,
    EVAL_OUTPUTS_FILE,
    EVAL_REPORT_FILE,
    Condition,
    EvalCard,
    Evaluation,
    card_report,
    load_card,
    promoted,
)
from skillstack.training.skill_writer import publish_skill


def _card(**changes) -> EvalCard:
    skill = Condition(label="skill", model="tone", metrics={"polite": 0.9, "short": 1.0}, pass_rates={"polite": 0.5},
                      prompt_tokens_mean=40.0)
    told = Condition(label="base + style guide", model="base", system_prompt="Be polite and brief.",
                     metrics={"polite": 0.4, "short": 0.0}, pass_rates={"polite": 0.0}, prompt_tokens_mean=200.0)
    values = dict(skill="tone", data="heldout.jsonl", data_sha256="ab" * 32, items=2, primary_metric="polite",
                  graders=[{"type": "string_check", "name": "polite"}, {"type": "string_check", "name": "short"}],
                  conditions=[skill, told], promoted=promoted([skill, told], "polite"), evaluated_at="2026-01-02T00:00:00+00:00")
    return EvalCard(**values | changes)


def _manifest() -> SkillManifest:
    return SkillManifest(name="tone", description="d", kind="tone", backend="openai", model="ft:gpt-4o-mini:tone",
                         provenance={"dataset_sha256": "cd" * 32, "trained_at": "2026-01-01T00:00:00+00:00"})


def test_a_card_with_two_metrics_and_a_baseline_with_its_own_system_prompt_reads_back(tmp_path: Path) -> None:
    card = _card()
    publish_skill(tmp_path / "tone", _manifest(), evaluation=Evaluation(card=card, outputs=[{"item": 0, "output": "hi"}]))
    again = load_card(tmp_path / "tone")
    assert again == card and again.promoted is True
    assert again.conditions[1].system_prompt == "Be polite and brief." and set(again.conditions[1].metrics) == {"polite", "short"}
    report = (tmp_path / "tone" / EVAL_REPORT_FILE).read_text()
    assert "| base + style guide | 200.0 | 0.400 | 0.000 | 0% |" in report and "promoted: **True**" in report
    assert json.loads((tmp_path / "tone" / EVAL_OUTPUTS_FILE).read_text()) == {"item": 0, "output": "hi"}


def test_promotion_needs_a_win_over_every_base_model_baseline_and_rag_is_no_gate() -> None:
    skill, base = Condition(label="skill", model="s", metrics={"m": 0.5}), Condition(label="base", model="base", metrics={"m": 0.5})
    rag = Condition(label="rag", model="base", retrieval=True, metrics={"m": 0.9})
    assert promoted([skill, base], "m") is False  # a tie is no win
    assert promoted([Condition(label="skill", model="s", metrics={"m": 0.6}), base, rag], "m") is True
    assert promoted([skill, rag], "m") is False  # nothing to be promoted against


def test_loading_a_card_warns_about_unknown_keys_and_refuses_another_version(tmp_path: Path) -> None:
    data = _card().to_dict() | {"future_field": 1}
    data["conditions"][0]["latency_ms"] = 3
    (tmp_path / EVAL_CARD_FILE).write_text(json.dumps(data))
    with pytest.warns(UserWarning) as caught:
        card = load_card(tmp_path)
    assert card == _card() and [str(w.message).split("unknown key(s) ")[1].split()[0] for w in caught] == ["future_field",
                                                                                                          "latency_ms"]
    (tmp_path / EVAL_CARD_FILE).write_text(json.dumps(data | {"version": 1}))
    with pytest.raises(SkillError, match=r"eval_card.json: eval card version 1.*re-run `skillstack eval`"):
        load_card(tmp_path)


@pytest.mark.parametrize("name", sorted(DEMO_SKILLS))
def test_bundled_cards_load_with_their_eval_md_and_manifest_in_step(name: str) -> None:
    folder = BUNDLED_DIR / name
    card = load_card(folder)
    demo = DEMO_SKILLS[name]
    assert [g["name"] for g in card.graders] == list(demo.metrics) and card.primary_metric == demo.primary
    assert [c.label for c in card.conditions] == ["skill", *(b.label for b in demo.baselines)]
    assert (folder / EVAL_REPORT_FILE).read_text(encoding="utf-8") == card_report(card)
    provenance = load_manifest(folder).provenance
    assert provenance["eval"] == card.summary() and provenance["promoted"] is card.promoted


def test_a_folder_is_published_with_its_manifest_written_once_with_provenance_and_eval(tmp_path, monkeypatch) -> None:
    import skillstack.skills.manifest as manifest_module

    folder = tmp_path / "tone"
    publish_skill(folder, _manifest(), write=lambda tmp: (tmp / "TRAINING.md").write_text("trained"))
    writes = []
    real = manifest_module.write_manifest
    monkeypatch.setattr(manifest_module, "write_manifest", lambda f, m: writes.append(f) or real(f, m))
    publish_skill(folder, load_manifest(folder), keep_from=folder, evaluation=Evaluation(card=_card()))
    assert len(writes) == 1
    provenance = tomllib.loads((folder / "skill.toml").read_text())["provenance"]
    assert provenance["dataset_sha256"] == "cd" * 32 and provenance["promoted"] is True
    assert provenance["eval"]["scores"] == {"skill": 0.9, "base + style guide": 0.4}
    assert (folder / "TRAINING.md").read_text() == "trained"  # the folder's other files are kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone"]  # no temporary sibling left


def test_a_killed_publish_leaves_the_old_folder(tmp_path: Path) -> None:
    folder = tmp_path / "tone"
    publish_skill(folder, _manifest(), evaluation=Evaluation(card=_card()))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def killed(tmp: Path) -> None:
        (tmp / "TRAINING.md").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish_skill(folder, _manifest(), keep_from=folder, write=killed, evaluation=Evaluation(card=_card(promoted=False)))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone"]
