"""Hostile and broken skill folders are rejected with a reason, never loaded, and never stop other skills."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skillstack.errors import SkillError
from skillstack.settings import load_settings
from skillstack.skills.registry import discover_skills, inspect_skill
from skillstack.skills.security import check_safetensors, resolve_inside

BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _skill(folder: Path, name: str, *, base: str = BASE, extra: str = "", adapter_base: str | None = None) -> Path:
    """A minimal but well-formed peft skill folder (tiny real safetensors file, no model needed).

    adapter_base: the base_model_name_or_path PEFT recorded in adapter_config.json (absent when None).
    """
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    (folder / "skill.toml").write_text(f'version = 1\nname = "{name}"\nbase_model = "{base}"\n{extra}')
    config = {"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"]}
    if adapter_base is not None:
        config["base_model_name_or_path"] = adapter_base
    (folder / "adapter_config.json").write_text(json.dumps(config))
    save_file({"w": torch.zeros(2, 2)}, str(folder / "adapter_model.safetensors"))
    return folder


@pytest.fixture
def skills_dir(home: Path) -> Path:
    path = home / "skills"
    path.mkdir()
    return path


def _own(found) -> list[str]:
    """Skills found in the test's own folders (bundled skills ship with the package and are always there)."""
    return [name for name, skill in found.skills.items() if skill.source != "bundled"]


def _rejections(home: Path) -> dict[str, str]:
    found = discover_skills(load_settings(home))
    return {Path(r.path).name: r.reason for r in found.rejected}


def test_pickle_adapter_is_refused_without_being_unpickled(home: Path, skills_dir: Path) -> None:
    _skill(skills_dir / "good", "good")
    bad = _skill(skills_dir / "pickled", "pickled")
    # A pickle that would create a file if it were ever unpickled.
    marker = home / "pwned"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    (bad / "adapter_model.bin").write_bytes(payload)
    found = discover_skills(load_settings(home))
    assert _own(found) == ["good"]
    assert "pickle-format weights are refused" in _rejections(home)["pickled"]
    assert not marker.exists()


def test_schema_path_escaping_with_dotdot_is_refused(home: Path, skills_dir: Path) -> None:
    (skills_dir / "secret.json").write_text("{}")
    _skill(skills_dir / "escape", "escape", extra='output = "json"\nschema = "../secret.json"\n')
    assert "plain file name inside the skill folder" in _rejections(home)["escape"]


def test_symlink_leaving_the_skill_folder_is_refused(home: Path, skills_dir: Path, tmp_path: Path) -> None:
    folder = _skill(skills_dir / "linked", "linked")
    outside = tmp_path / "outside.safetensors"
    os.replace(folder / "adapter_model.safetensors", outside)
    (folder / "adapter_model.safetensors").symlink_to(outside)
    assert "leaves the skill folder" in _rejections(home)["linked"]


def test_symlinked_skill_folder_outside_the_skills_dir_is_refused(home: Path, skills_dir: Path, tmp_path: Path) -> None:
    real = _skill(tmp_path / "elsewhere", "elsewhere")
    (skills_dir / "elsewhere").symlink_to(real, target_is_directory=True)
    assert "outside the skills directory" in _rejections(home)["elsewhere"]


def test_adapter_for_another_base_is_rejected_naming_both_models(home: Path, skills_dir: Path) -> None:
    _skill(skills_dir / "llama", "llama", base="meta-llama/Llama-3.2-1B")
    reason = _rejections(home)["llama"]
    assert "meta-llama/Llama-3.2-1B" in reason and BASE in reason


def test_adapter_config_naming_another_base_is_rejected_at_discovery_naming_both(home: Path, skills_dir: Path) -> None:
    # The manifest claims the right base; PEFT's own record in adapter_config.json says otherwise.
    _skill(skills_dir / "disguised", "disguised", adapter_base="meta-llama/Llama-3.2-1B")
    _skill(skills_dir / "honest", "honest", adapter_base=BASE)
    found = discover_skills(load_settings(home))
    assert _own(found) == ["honest"]
    reason = _rejections(home)["disguised"]
    assert "meta-llama/Llama-3.2-1B" in reason and BASE in reason and "adapter_config.json" in reason
    with pytest.raises(SkillError, match="Llama-3.2-1B"):
        inspect_skill(skills_dir / "disguised", base_model=BASE)


def test_user_folder_named_like_a_bundled_skill_is_marked_as_overriding_it(home: Path, skills_dir: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    from skillstack.cli.main import main
    from skillstack.skills.registry import BUNDLED_DIR

    _skill(skills_dir / "brand-voice", "brand-voice")
    winner = discover_skills(load_settings(home)).skills["brand-voice"]
    assert winner.source == "user" and winner.path == skills_dir / "brand-voice"
    assert winner.overrides == [{"source": "bundled", "path": str(BUNDLED_DIR / "brand-voice")}]

    assert main(["skills", "list", "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)["skills"]}
    assert listed["brand-voice"]["overrides"][0]["source"] == "bundled"
    assert listed["legal-reasoner"]["overrides"] == []
    assert main(["skills", "list"]) == 0
    line = next(text for text in capsys.readouterr().out.splitlines() if text.startswith("brand-voice "))
    assert "[overrides bundled]" in line
    assert main(["skills", "show", "brand-voice"]) == 0
    shown = capsys.readouterr().out
    assert str(skills_dir / "brand-voice") in shown
    assert f"overrides    bundled {BUNDLED_DIR / 'brand-voice'} (this user folder won)" in shown


def test_broken_manifest_and_missing_weights_are_reported_and_others_still_load(home: Path, skills_dir: Path) -> None:
    _skill(skills_dir / "fine", "fine")
    (skills_dir / "broken").mkdir()
    (skills_dir / "broken" / "skill.toml").write_text("version = 1\nname = ")
    no_weights = _skill(skills_dir / "noweights", "noweights")
    (no_weights / "adapter_model.safetensors").unlink()
    (skills_dir / ".tmp-half-written").mkdir()  # hidden: a training run still writing
    found = discover_skills(load_settings(home))
    reasons = _rejections(home)
    assert _own(found) == ["fine"]
    assert "not valid TOML" in reasons["broken"]
    assert "adapter_model.safetensors is missing" in reasons["noweights"]
    assert ".tmp-half-written" not in reasons


def test_duplicate_skill_name_keeps_the_first_and_reports_the_second(home: Path, skills_dir: Path, tmp_path: Path) -> None:
    _skill(skills_dir / "tone", "tone")
    extra = tmp_path / "extra"
    _skill(extra / "tone-copy", "tone")
    found = discover_skills(load_settings(home, skills_dirs=str(extra)))
    assert found.skills["tone"].path == skills_dir / "tone"
    assert "duplicate skill name 'tone'" in found.rejected[0].reason


def test_truncated_safetensors_is_refused_from_its_header(tmp_path: Path) -> None:
    folder = _skill(tmp_path / "cut", "cut")
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])
    with pytest.raises(SkillError, match="outside the file"):
        check_safetensors(weights)
    with pytest.raises(SkillError, match="outside the file"):
        inspect_skill(folder, base_model=BASE)


def test_resolve_inside_refuses_absolute_and_parent_paths(tmp_path: Path) -> None:
    for bad in ("/etc/passwd", "../x", "a/../../x", ""):
        with pytest.raises(SkillError):
            resolve_inside(tmp_path, bad, "file")
    assert resolve_inside(tmp_path, "schema.json", "file") == (tmp_path / "schema.json").resolve()
