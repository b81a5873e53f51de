"""The skill manifest format: round trip, schema checks naming file and field, tolerance of newer keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.errors import SkillError
from skillstack.skills.manifest import (
    GenerationDefaults,
    SkillManifest,
    load_manifest,
    write_manifest,
)


def _manifest(**changes) -> SkillManifest:
    values = dict(name="brand-voice", description="Answers in the brand's voice", kind="tone", backend="peft",
                  base_model="HuggingFaceTB/SmolLM2-135M-Instruct", routing_examples=["reply to a customer"],
                  system_prompt="You are Acme's assistant.", generation=GenerationDefaults(max_tokens=64, stop=["###"]),
                  provenance={"dataset_sha256": "ab" * 32, "metrics": {"loss": 0.5}, "promoted": True})
    values.update(changes)
    return SkillManifest(**values)


def test_written_manifest_reads_back_identically(tmp_path: Path) -> None:
    manifest = _manifest(output="json", schema="schema.json")
    path = write_manifest(tmp_path, manifest)
    assert path.name == "skill.toml"
    assert load_manifest(tmp_path) == manifest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_json_manifest_is_read_like_toml(tmp_path: Path) -> None:
    (tmp_path / "skill.json").write_text(json.dumps({"version": 1, "name": "fmt", "backend": "openai", "model": "ft:x"}))
    manifest = load_manifest(tmp_path)
    assert (manifest.name, manifest.backend, manifest.model, manifest.kind) == ("fmt", "openai", "ft:x", "other")


def test_unknown_keys_from_a_newer_version_warn_and_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "skill.toml").write_text('version = 2\nname = "x"\nbase_model = "b"\nfuture_field = 1\n'
                                         '[generation]\nmax_tokens = 9\nfuture_knob = true\n')
    with pytest.warns(UserWarning) as caught:
        manifest = load_manifest(tmp_path)
    messages = " ".join(str(w.message) for w in caught)
    assert "future_field" in messages and "generation.future_knob" in messages
    assert manifest.generation.max_tokens == 9


@pytest.mark.parametrize(("toml", "field"), [
    ('name = "x"\nbase_model = "b"', "version"),
    ('version = 1\nname = "Bad Name"\nbase_model = "b"', "name"),
    ('version = 1\nname = "base"\nbase_model = "b"', "name"),
    ('version = 1\nname = "x"\nkind = "poetry"\nbase_model = "b"', "kind"),
    ('version = 1\nname = "x"\nbackend = "llama"', "backend"),
    ('version = 1\nname = "x"', "base_model"),
    ('version = 1\nname = "x"\nbase_model = "b"\noutput = "json"', "schema"),
    ('version = 1\nname = "x"\nbackend = "openai-compatible"\nmodel = "m"', "base_url"),
    ('version = 1\nname = "x"\nbase_model = "b"\nrouting_examples = "one"', "routing_examples"),
    ('version = 1\nname = "x"\nbase_model = "b"\n[generation]\nmax_tokens = 0', "generation.max_tokens"),
    ('version = 1\nname = "x"\nbase_model = "b"\n[generation]\ntop_p = 2.0', "generation.top_p"),
])
def test_invalid_field_is_refused_naming_file_and_field(tmp_path: Path, toml: str, field: str) -> None:
    (tmp_path / "skill.toml").write_text(toml)
    with pytest.raises(SkillError, match=rf"skill\.toml: field '{field}'"):
        load_manifest(tmp_path)


def test_broken_toml_and_missing_manifest_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SkillError, match="no skill.toml or skill.json"):
        load_manifest(tmp_path)
    (tmp_path / "skill.toml").write_text("name = [unclosed")
    with pytest.raises(SkillError, match="not valid TOML"):
        load_manifest(tmp_path)


def test_write_manifest_refuses_what_it_could_not_read_back(tmp_path: Path) -> None:
    with pytest.raises(SkillError, match="field 'name'"):
        write_manifest(tmp_path, _manifest(name="Not Valid"))
    assert not (tmp_path / "skill.toml").exists()


HUGE = 10 * 1024 * 1024  # the red-team pass's 10 MB description


@pytest.mark.parametrize(("changes", "field", "limit"), [
    ({"description": "d" * HUGE}, "description", "4000"),
    ({"system_prompt": "p" * HUGE}, "system_prompt", "32000"),
    ({"name": "n" * 100}, "name", "64"),
    ({"base_model": "b" * 5000}, "base_model", "2000"),
    ({"routing_examples": ["task"] * 1000}, "routing_examples", "200"),
    ({"routing_examples": ["ok", "x" * HUGE]}, r"routing_examples\[1\]", "4000"),
    ({"generation": {"stop": ["s"] * 100}}, "generation.stop", "16"),
    ({"generation": {"stop": ["s" * 1000]}}, r"generation.stop\[0\]", "200"),
    ({"provenance": {"notes": "x" * HUGE}}, "provenance", "1000000"),
    ({"kind": "k" * HUGE}, "kind", "one of"),
    ({"description": ["not", "a", "string"] * 100_000}, "description", "must be str"),
])
def test_oversized_manifest_field_is_refused_by_name_and_limit_without_echoing_it(
        tmp_path: Path, changes: dict, field: str, limit: str) -> None:
    import tomli_w

    data = {"version": 1, "name": "x", "base_model": "b"} | changes
    (tmp_path / "skill.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(SkillError, match=rf"field '{field}'.*{limit}") as caught:
        load_manifest(tmp_path)
    assert len(str(caught.value)) < 400  # the value is never printed whole


def test_bundled_skills_fit_the_manifest_bounds() -> None:
    from skillstack.skills.registry import BUNDLED_DIR

    for folder in sorted(p for p in BUNDLED_DIR.iterdir() if (p / "skill.toml").exists()):
        load_manifest(folder)
