"""Graders against worked examples: each OpenAI grader type, the json_schema grader, multi, and bad specs."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from skillstack.errors import ConfigError, DatasetError
from skillstack.training.graders import build_grader, register_grader
from skillstack.training.graders.label_model import parse_label
from skillstack.training.graders.score_model import parse_score
from skillstack.training.graders.templates import render

SAMPLE = {"output_text": "The capital of France is Paris.", "output_json": None}
ITEM = {"answer": "Paris", "reference": "The capital of France is Paris.", "meta": {"tags": ["geo", "eu"]}}


def check(operation: str, reference: str = "{{item.answer}}") -> dict:
    return {"type": "string_check", "name": "check", "input": "{{sample.output_text}}", "reference": reference,
            "operation": operation}


def test_templates_read_item_sample_and_output_json_paths():
    sample = {"output_text": "x", "output_json": {"score": 3, "why": {"short": "ok"}}}
    text = "{{item.answer}}|{{ sample.output_json.why.short }}|{{sample.output_json.score}}|{{item.meta.tags.1}}|{{item.meta}}"
    assert render(text, sample, ITEM) == 'Paris|ok|3|eu|{"tags": ["geo", "eu"]}'
    with pytest.raises(DatasetError, match=r"item.missing"):
        render("{{item.missing}}", sample, ITEM)


@pytest.mark.parametrize(("operation", "reference", "expected"), [
    ("eq", "{{item.reference}}", 1.0), ("eq", "{{item.answer}}", 0.0),
    ("ne", "{{item.answer}}", 1.0), ("like", "Paris", 1.0), ("like", "paris", 0.0), ("ilike", "paris", 1.0),
])
def test_string_check_operations(operation: str, reference: str, expected: float):
    assert build_grader(check(operation, reference)).grade(SAMPLE, ITEM) == expected


@pytest.mark.parametrize(("metric", "low", "high"), [
    ("fuzzy_match", 0.99, 1.0), ("bleu", 0.99, 1.0), ("gleu", 0.99, 1.0), ("rouge_1", 0.99, 1.0),
    ("rouge_2", 0.99, 1.0), ("rouge_l", 0.99, 1.0),
])
def test_text_similarity_identical_texts_score_one(metric: str, low: float, high: float):
    spec = {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}",
            "reference": "{{item.reference}}", "evaluation_metric": metric}
    assert low <= build_grader(spec).grade(SAMPLE, ITEM) <= high


def test_text_similarity_worked_values_for_partial_matches():
    def score(metric: str, text: str, reference: str) -> float:
        spec = {"type": "text_similarity", "name": "s", "input": text, "reference": reference, "evaluation_metric": metric}
        return build_grader(spec).grade(SAMPLE, ITEM)

    assert score("fuzzy_match", "kitten", "sitting") == pytest.approx(1 - 5 / 13)  # Indel distance 5 over 13 chars
    assert score("rouge_1", "the cat sat", "the cat ran") == pytest.approx(2 / 3)
    assert score("rouge_2", "the cat sat", "the cat ran") == pytest.approx(1 / 2)
    assert score("bleu", "completely different words here", "the cat sat on the mat") == 0.0


def test_text_similarity_refuses_meteor_clearly():
    with pytest.raises(ConfigError, match="meteor"):
        build_grader({"type": "text_similarity", "name": "m", "input": "a", "reference": "b", "evaluation_metric": "meteor"})


def test_json_schema_grader_checks_output_text_or_output_json():
    spec = {"type": "json_schema", "name": "schema",
            "schema": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}}
    grader = build_grader(spec)
    assert grader.grade({"output_text": '{"city": "Paris"}', "output_json": None}, ITEM) == 1.0
    assert grader.grade({"output_text": '{"town": "Paris"}', "output_json": None}, ITEM) == 0.0
    assert grader.grade({"output_text": "not json", "output_json": None}, ITEM) == 0.0
    assert grader.grade({"output_text": "", "output_json": {"city": "Lyon"}}, ITEM) == 1.0
    with pytest.raises(ConfigError, match="schema is invalid"):
        build_grader({"type": "json_schema", "schema": {"type": "no-such-type"}})


def test_python_grader_runs_source_in_a_subprocess():
    source = "def grade(sample, item):\n    return 1.0 if item['answer'] in sample['output_text'] else 0.25\n"
    grader = build_grader({"type": "python", "name": "py", "source": source})
    assert grader.grade(SAMPLE, ITEM) == 1.0
    assert grader.grade({"output_text": "Lyon", "output_json": None}, ITEM) == 0.25


def test_python_grader_that_hangs_or_crashes_scores_zero_without_harming_the_caller():
    hang = build_grader({"type": "python", "name": "hang", "timeout": 1,
                         "source": "def grade(sample, item):\n    while True:\n        pass\n"})
    with pytest.warns(UserWarning, match="timed out"):
        assert hang.grade(SAMPLE, ITEM) == 0.0
    crash = build_grader({"type": "python", "name": "crash", "source": "def grade(sample, item):\n    raise SystemExit(3)\n"})
    with pytest.warns(UserWarning, match="failed"):
        assert crash.grade(SAMPLE, ITEM) == 0.0
    with pytest.raises(ConfigError, match="line 1"):
        build_grader({"type": "python", "name": "bad", "source": "def grade(:"})


def judge(*replies: str) -> FakeListChatModel:
    return FakeListChatModel(responses=list(replies))


def test_score_model_scales_the_judges_number_into_its_range():
    spec = {"type": "score_model", "name": "judge", "model": "any", "range": [1, 5],
            "input": [{"role": "system", "content": "Rate the answer."},
                      {"role": "user", "content": "Q: capital? Reference: {{item.answer}} Answer: {{sample.output_text}}"}]}
    grader = build_grader(spec, judge=judge("4", "Score: 5/5", "no idea"))
    assert [grader.grade(SAMPLE, ITEM) for _ in range(3)] == [0.75, 1.0, 0.0]
    assert parse_score("-3", 0, 1) == 0.0 and parse_score("0.4", 0, 1) == 0.4


def test_label_model_passes_only_passing_labels():
    spec = {"type": "label_model", "name": "tone", "model": "any", "labels": ["polite", "rude"], "passing_labels": ["polite"],
            "input": [{"role": "user", "content": "Classify the tone: {{sample.output_text}}"}]}
    grader = build_grader(spec, judge=judge("polite", "The tone is rude.", "unsure"))
    assert [grader.grade(SAMPLE, ITEM) for _ in range(3)] == [1.0, 0.0, 0.0]
    assert parse_label("Rude.", ["polite", "rude"]) == "rude"


def test_multi_combines_sub_grader_scores_with_its_formula():
    spec = {"type": "multi", "name": "combo", "calculate_output": "0.5 * exact + 0.5 * sim ^ 2",
            "graders": {"exact": check("eq", "{{item.reference}}"),
                        "sim": {"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}",
                                "reference": "The capital of France is Lyon.", "evaluation_metric": "rouge_1"}}}
    grader = build_grader(spec)
    # exact = 1, rouge_1 = 5/6 shared words -> 0.5 + 0.5 * (5/6)^2
    assert grader.scores(SAMPLE, ITEM) == {"exact": 1.0, "sim": pytest.approx(5 / 6)}
    assert grader.grade(SAMPLE, ITEM) == pytest.approx(0.5 + 0.5 * (5 / 6) ** 2)


def test_multi_formula_functions_and_clamping():
    spec = {"type": "multi", "name": "m", "calculate_output": "max(a, 0.2) * 3 - min(a, b) + sqrt(b) + floor(a)",
            "graders": {"a": check("eq", "{{item.reference}}"), "b": check("ne", "{{item.reference}}")}}
    assert build_grader(spec).grade(SAMPLE, ITEM) == 1.0  # 3 - 0 + 0 + 1 = 4, clamped


@pytest.mark.parametrize("formula", ["__import__('os').system('true')", "a.__class__", "open('x')", "[a for a in b]", "c + 1"])
def test_multi_refuses_formulas_that_are_not_arithmetic(formula: str):
    with pytest.raises(ConfigError):
        build_grader({"type": "multi", "name": "m", "calculate_output": formula,
                      "graders": {"a": check("eq"), "b": check("ne")}})


@pytest.mark.parametrize("spec", [
    {"type": "nope"}, {"type": "string_check", "input": "x", "reference": "y", "operation": "contains"},
    {"type": "string_check", "input": "{{other.x}}", "reference": "y", "operation": "eq"},
    {"type": "label_model", "model": "m", "input": [{"role": "user", "content": "x"}], "labels": ["a"], "passing_labels": ["b"]},
    {"type": "score_model", "model": "m", "input": [], "range": [0, 1]}, "not a dict",
])
def test_bad_specs_are_config_errors_naming_the_problem(spec):
    with pytest.raises(ConfigError):
        build_grader(spec)


def test_register_grader_validates_and_plugins_build_like_built_ins():
    with pytest.raises(ConfigError):
        register_grader("Bad Name", lambda spec, ctx: None)
    with pytest.raises(ConfigError, match="already registered"):
        register_grader("string_check", lambda spec, ctx: None)

    from skillstack.training.graders.base import Grader

    class Length(Grader):
        def grade(self, sample, item):
            return min(1.0, len(sample["output_text"]) / 100)

    register_grader("length_test", lambda spec, ctx: Length(name=spec.get("name", "len")))
    assert build_grader(json.loads('{"type": "length_test"}')).grade(SAMPLE, ITEM) == pytest.approx(0.31)


def test_model_graders_reach_an_openai_judge_through_the_sdk(settings, monkeypatch):
    from fakes.openai_cloud import FakeOpenAICloud

    from skillstack.settings import with_overrides

    with FakeOpenAICloud(replies={"judge-model": "Score: 7", "labeller": "polite"}) as cloud:
        monkeypatch.setenv("OPENAI_API_KEY", cloud.api_key)
        remote = with_overrides(settings, openai_base_url=cloud.base_url)
        prompt = [{"role": "user", "content": "Rate: {{sample.output_text}}"}]
        scorer = build_grader({"type": "score_model", "name": "s", "model": "judge-model", "input": prompt, "range": [0, 10]},
                              settings=remote)
        labeller = build_grader({"type": "label_model", "name": "l", "model": "labeller", "input": prompt,
                                 "labels": ["polite", "rude"], "passing_labels": ["polite"]}, settings=remote)
        assert scorer.grade(SAMPLE, ITEM) == pytest.approx(0.7)
        assert labeller.grade(SAMPLE, ITEM) == 1.0
    asked = [path for method, path in cloud.state.requests if path.endswith("/chat/completions")]
    assert len(asked) == 2


def test_model_grader_without_a_judge_says_what_to_configure(settings, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    grader = build_grader({"type": "score_model", "name": "s", "model": "gpt-judge",
                           "input": [{"role": "user", "content": "x"}]}, settings=settings)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        grader.grade(SAMPLE, ITEM)


def test_grader_plugins_register_from_entry_points(monkeypatch):
    import types
    from importlib.metadata import EntryPoint

    from skillstack.training.graders import base

    class Half(base.Grader):
        def grade(self, sample, item):
            return 0.5

    plugin = types.ModuleType("skillstack_test_plugin")
    plugin.factory = lambda spec, ctx: Half(name=spec.get("name", "half"))
    monkeypatch.setitem(__import__("sys").modules, "skillstack_test_plugin", plugin)
    points = [EntryPoint(name="always_half", value="skillstack_test_plugin:factory", group=base.ENTRY_POINT_GROUP),
              EntryPoint(name="broken", value="no_such_module_xyz:factory", group=base.ENTRY_POINT_GROUP)]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: points if group == base.ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(base, "_plugins_loaded", False)
    with pytest.warns(UserWarning, match="broken"):
        assert "always_half" in base.grader_types()
    assert build_grader({"type": "always_half"}).grade(SAMPLE, ITEM) == 0.5
    monkeypatch.delitem(base._REGISTRY, "always_half")
