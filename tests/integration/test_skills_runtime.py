"""The local skills runtime on the real base model with real LoRA adapters: selection, concurrency, eviction, JSON."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

from skillstack.errors import OutputValidationError, SkillError
from skillstack.settings import load_settings
from skillstack.skills.registry import discover_skills
from skillstack.skills.runtime import chat_model, get_runtime
from skillstack.skills.structured import schema_errors

from skills_fixtures import PROMPT, STATUS_SCHEMA, expected_output, skills_home  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings_(skills_home: Path):
    return load_settings(skills_home)


def test_base_and_each_skill_give_their_own_greedy_answer(skills_home: Path) -> None:
    answers = {name: expected_output(skills_home, name) for name in ("base", "tone-a", "tone-b")}
    assert all(answers.values())
    assert len(set(answers.values())) == 3, answers


def test_two_threads_hammering_different_skills_never_cross_talk(skills_home: Path, settings_) -> None:
    want = {name: expected_output(skills_home, name) for name in ("tone-a", "tone-b")}
    engine = get_runtime(settings_).engine
    mixed_before = engine.mixed_batches
    got: dict[str, list[str]] = {name: [] for name in want}
    start = threading.Barrier(len(want))

    def hammer(name: str) -> None:
        model = chat_model(settings_, name, max_tokens=8)
        start.wait()
        for _ in range(2):
            got[name].append(model.invoke(PROMPT).content)

    threads = [threading.Thread(target=hammer, args=(name,)) for name in want]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == {name: [answer] * 2 for name, answer in want.items()}
    assert engine.mixed_batches > mixed_before  # the two skills really shared forward passes


def test_resident_adapters_are_capped_and_evicted_lru_without_leaking(settings_) -> None:
    runtime = get_runtime(settings_)
    engine = runtime.engine
    skills = runtime.discovery().skills

    def attach(name: str) -> None:
        engine.ensure_adapter(name, skills[name].path, skills[name].manifest.base_model)

    for name in ("tone-a", "tone-b"):
        attach(name)
    baseline = sum(p.numel() for p in engine.peft.parameters())
    attach("tone-a")  # touch: tone-b is now least recently used
    attach("tone-c")
    assert engine.resident_adapters == ["tone-a", "tone-c"]
    assert set(engine.peft.peft_config) == {"tone-a", "tone-c"}
    for _ in range(10):
        for name in ("tone-a", "tone-b", "tone-c"):
            attach(name)
    assert len(engine.resident_adapters) == 2
    assert set(engine.peft.peft_config) == set(engine.resident_adapters)
    assert sum(p.numel() for p in engine.peft.parameters()) == baseline


def test_adapter_for_another_base_is_refused_naming_both(settings_) -> None:
    runtime = get_runtime(settings_)
    folder = runtime.discovery().skills["tone-a"].path
    with pytest.raises(SkillError, match=r"trained for base model 'meta-llama/Llama-3.2-1B'.*HuggingFaceTB/SmolLM2"):
        runtime.engine.ensure_adapter("imposter", folder, "meta-llama/Llama-3.2-1B")
    reasons = {r.name: r.reason for r in runtime.discovery().rejected}
    assert "meta-llama/Llama-3.2-1B" in reasons["other-base"]
    with pytest.raises(SkillError, match="was rejected: .*pickle"):
        chat_model(settings_, "pickled")


def test_json_skill_output_is_schema_valid_under_constrained_decoding(settings_) -> None:
    message = chat_model(settings_, "status-json").invoke("The database is unreachable since 3am. Report status.")
    parsed = message.response_metadata["parsed"]
    assert schema_errors(parsed, STATUS_SCHEMA) == []


def test_json_cut_short_by_max_tokens_retries_then_raises_typed_error(settings_) -> None:
    model = chat_model(settings_, "status-json", max_tokens=2, max_retries=1)
    with pytest.raises(OutputValidationError, match="no schema-valid JSON after 2 attempts"):
        model.invoke("Report status.")


def test_with_structured_output_constrains_the_base_model_to_a_pydantic_schema(settings_) -> None:
    class City(BaseModel):
        city: str
        country: str

    answer = chat_model(settings_, "base", max_tokens=24).with_structured_output(City).invoke(
        "Which city is the capital of France? Answer as JSON.")
    assert isinstance(answer, City) and answer.city


def test_stream_yields_the_invoke_answer_and_stop_strings_cut_it(skills_home: Path, settings_) -> None:
    model = chat_model(settings_, "tone-b", max_tokens=8)
    full = expected_output(skills_home, "tone-b")
    assert "".join(chunk.content for chunk in model.stream(PROMPT)) == full
    stop = full[len(full) // 2:][:2]
    assert model.invoke(PROMPT, stop=[stop]).content == full[: full.index(stop)]


def test_skill_package_registered_as_entry_point_is_discovered(skills_home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    package_skills = tmp_path / "site" / "acme_skills" / "skills"
    shutil.copytree(skills_home / "skills" / "tone-a", package_skills / "acme-tone")
    manifest = package_skills / "acme-tone" / "skill.toml"
    manifest.write_text(manifest.read_text().replace('name = "tone-a"', 'name = "acme-tone"'))
    (tmp_path / "site" / "acme_skills" / "__init__.py").write_text(
        "from pathlib import Path\n\ndef skill_dirs():\n    return [Path(__file__).parent / 'skills']\n")
    dist = tmp_path / "site" / "acme_skills-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-skills\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[skillstack.skills]\nacme = acme_skills:skill_dirs\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    found = discover_skills(load_settings(tmp_path / "fresh-home"))
    assert found.skills["acme-tone"].source.startswith("entry point acme")
