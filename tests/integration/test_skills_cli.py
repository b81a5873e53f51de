"""The skills CLI contract: `skills list|show|check` and `run` (incl. `run base`, batch mode, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.cli.main import main

from skills_fixtures import STATUS_SCHEMA, skills_home  # noqa: F401 - a fixture
from skillstack.skills.structured import schema_errors


def _json(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, object]:
    code = main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    return code, [json.loads(line) for line in out]


def test_skills_list_json_reports_skills_and_rejected_folders_with_reasons(skills_home: Path, capsys) -> None:
    code, [data] = _json(capsys, ["--home", str(skills_home), "skills", "list", "--json"])
    assert code == 0
    names = {s["name"] for s in data["skills"]}
    assert {"tone-a", "tone-b", "tone-c", "status-json"} <= names
    assert all({"name", "kind", "backend", "path"} <= set(s) for s in data["skills"])
    reasons = {Path(r["path"]).name: r["reason"] for r in data["rejected"]}
    assert "pickle" in reasons["pickled"] and "Llama-3.2-1B" in reasons["other-base"] and "kind" in reasons["broken"]


def test_skills_show_and_check_describe_a_good_folder(skills_home: Path, capsys) -> None:
    code, [shown] = _json(capsys, ["--home", str(skills_home), "skills", "show", "status-json", "--json"])
    assert code == 0 and shown["output"] == "json" and shown["kind"] == "format"
    code, [checked] = _json(capsys, ["--home", str(skills_home), "skills", "check",
                                     str(skills_home / "skills" / "tone-a"), "--json"])
    assert code == 0 and checked["ok"] is True and checked["name"] == "tone-a"


def test_check_and_run_on_rejected_or_unknown_skill_exit_2_with_the_reason(skills_home: Path, capsys) -> None:
    assert main(["--home", str(skills_home), "skills", "check", str(skills_home / "skills" / "pickled")]) == 2
    assert "pickle-format weights are refused" in capsys.readouterr().err
    assert main(["--home", str(skills_home), "run", "other-base", "hi"]) == 2
    assert "was rejected" in capsys.readouterr().err
    assert main(["--home", str(skills_home), "run", "no-such-skill", "hi"]) == 2
    assert "unknown skill 'no-such-skill'" in capsys.readouterr().err


@pytest.mark.slow
def test_run_base_prints_skill_output_and_null_parsed(skills_home: Path, capsys) -> None:
    code, [result] = _json(capsys, ["--home", str(skills_home), "run", "base", "Say hi.", "--json", "--max-tokens", "4",
                                    "--system", "You answer briefly."])
    assert code == 0
    assert result["skill"] == "base" and result["output"] and result["parsed"] is None


@pytest.mark.slow
def test_run_json_skill_in_batch_mode_prints_one_parsed_object_per_line(skills_home: Path, tmp_path: Path,
                                                                        capsys) -> None:
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"text": "The API is down."}\n\n{"text": "All systems nominal."}\n')
    code, results = _json(capsys, ["--home", str(skills_home), "run", "status-json", "--input", str(batch)])
    assert code == 0 and len(results) == 2
    for result in results:
        assert result["skill"] == "status-json"
        assert schema_errors(result["parsed"], STATUS_SCHEMA) == []
        assert json.loads(result["output"]) == result["parsed"]
