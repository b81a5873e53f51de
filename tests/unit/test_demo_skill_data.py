"""The demo skills' generators and scorers without models: determinism, the rules each dataset encodes, the rubric."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from skillstack.agents.lawyer.citations import cited_articles
from skillstack.agents.lawyer.gate import check_citations
from skillstack.training.data.validate import validate_file
from skillstack.training.demo_skills import DEMO_SKILLS, brand_voice, legal, status_json
from skillstack.training.demo_skills.build import write_datasets


@pytest.fixture(scope="module")
def generated() -> dict[str, tuple[list[dict], list[dict], dict]]:
    return {name: skill.generate_data(None) for name, skill in DEMO_SKILLS.items()}


def test_each_generator_gives_the_same_data_for_the_same_seed(generated):
    again = {name: skill.generate_data(None) for name, skill in DEMO_SKILLS.items()}
    assert json.dumps(again, sort_keys=True) == json.dumps(generated, sort_keys=True)
    other = status_json.generate(8, n_train=20, n_heldout=5)
    assert other[0] != status_json.generate(7, n_train=20, n_heldout=5)[0]


def test_generated_files_pass_the_project_validator(tmp_path):
    for skill in DEMO_SKILLS.values():
        train, heldout, provenance = write_datasets(skill, tmp_path, corpus_csv=None)
        assert validate_file(train).ok and validate_file(heldout).ok
        assert provenance["command"] == f"make demo-skills ONLY={skill.name}"


def test_routing_examples_are_varied_and_within_eight_to_fifteen():
    for skill in DEMO_SKILLS.values():
        assert 8 <= len(set(skill.routing_examples)) == len(skill.routing_examples) <= 15


def test_every_brand_voice_training_reply_meets_the_rubric(generated):
    train, heldout, provenance = generated["brand-voice"]
    assert provenance["prompts"].startswith("built-in problems") and provenance["corpus"] is None
    for example in train:
        user, reply = example["messages"][1]["content"], example["messages"][2]["content"]
        name = re.match(r"Hi ([^,]+),", reply).group(1)
        assert name == "there" or name in user, (user, reply)
        assert all(brand_voice.rubric_checks(reply, None if name == "there" else name).values()), reply
    assert all(m["role"] == "user" for item in heldout for m in item["messages"])


def test_brand_voice_prompts_come_in_many_registers_with_several_problems_and_accented_names(generated):
    train, heldout, provenance = generated["brand-voice"]
    users = [e["messages"][1]["content"] for e in train]
    assert {item["register"] for item in heldout} >= {"polite", "angry", "terse"}
    assert any(re.search(r"[À-ž]", u) for u in users) and any(u.isupper() for u in users if len(u) > 40)
    several = [e for e in train if e["messages"][2]["content"].count(" within ") + e["messages"][2]["content"].count(" by ") >= 2]
    assert len(several) > len(train) // 10
    assert provenance["curation"]["checked_by"] == "brand-voice rubric" and provenance["curation"]["dropped"] >= 0


def test_brand_voice_unseen_greeting_accepts_a_name_only_when_the_message_has_it():
    reply = ("Hi Renée,\n\nI completely understand. Here's what I'll do: I'll refund it within 2 business days. "
             "Thanks for your patience.\n\nWarm regards, Lumen Care")
    signed = {"messages": [{"role": "user", "content": "charged twice. fix it\nRenée"}]}
    assert brand_voice.score(signed, reply)["compliant"] == 1.0
    assert brand_voice.score({"messages": [{"role": "user", "content": "charged twice"}]}, reply)["greeting"] == 0.0
    anonymous = reply.replace("Hi Renée,", "Hi there,")
    assert brand_voice.score({"messages": [{"role": "user", "content": "charged twice"}]}, anonymous)["compliant"] == 1.0


def test_brand_voice_rubric_catches_each_broken_rule():
    good = ("Hi Maria,\n\nI completely understand. Here's what I'll do: I'll refund it within 2 business days. "
            "Thanks for your patience.\n\nWarm regards, Lumen Care")
    assert brand_voice.rubric_score(good, "Maria") == 1.0
    broken = {
        "greeting": good.replace("Hi Maria,", "Dear valued customer,"),
        "signature_phrases": good.replace("I completely understand. ", "").replace("Thanks for your patience.", "Thanks."),
        "next_step_time_frame": good.replace(" within 2 business days", " soon"),
        "sign_off": good.replace("Warm regards, Lumen Care", "Best, the bank"),
        "no_banned_phrases": good.replace("I completely understand.", "I completely understand. As an AI, I can help."),
        "max_words": good.replace("Thanks for your patience.", "Thanks for your patience. " + "More words here. " * 40),
    }
    for rule, reply in broken.items():
        assert not brand_voice.rubric_checks(reply, "Maria")[rule], rule
    assert brand_voice.rubric_checks(good.replace("Hi Maria,", "Hi there,"), None)["greeting"]


def test_brand_voice_uses_real_customer_messages_but_never_an_unseen_row(support_csv):
    import csv

    from skillstack.training.demo_skills.brand_voice_prompts import unseen_rows

    train, heldout, provenance = brand_voice.generate(7, n_train=60, n_heldout=6, corpus_csv=support_csv)
    assert "bitext" in provenance["prompts"] and provenance["curation"]["unseen_corpus_rows_left_out"] == 25
    with support_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    corpus_texts = {" ".join(r["instruction"].split()).replace('"', "'") for r in rows}
    users = [e["messages"][1]["content"] for e in train]
    assert sum(any(text in u for text in corpus_texts if len(text) > 30) for u in users[:30]) >= 5
    unseen = {" ".join(rows[i]["instruction"].split()).replace('"', "'") for i in unseen_rows(rows)}
    assert not [u for u in users + [i["messages"][0]["content"] for i in heldout] if any(t in u for t in unseen)]
    assert not set(users) & {item["messages"][0]["content"] for item in heldout}


def test_unseen_rows_rebuild_the_rows_the_unseen_set_quotes(support_csv):
    import csv
    from pathlib import Path

    from skillstack.training.demo_skills.brand_voice_prompts import unseen_rows

    unseen_file = Path(__file__).resolve().parents[2] / "bench" / "unseen" / "skills" / "brand_voice_messages.jsonl"
    quoted = {int(r["source"].split()[-1]) for r in map(json.loads, unseen_file.read_text().splitlines())
              if r["source"].startswith("bitext row")}
    with support_csv.open(encoding="utf-8", newline="") as handle:
        assert unseen_rows(list(csv.DictReader(handle))) == quoted


def test_status_answers_follow_the_schema_and_the_counting_rules(generated):
    train, heldout, _ = generated["agent-status-json"]
    validator = Draft202012Validator(status_json.SCHEMA)
    Draft202012Validator.check_schema(status_json.SCHEMA)
    for expected in [json.loads(e["messages"][2]["content"]) for e in train] + [i["expected"] for i in heldout]:
        validator.validate(expected)
        assert expected["tasks"]["failed"] == sum(e["count"] for e in expected["errors"])
        assert list(expected) == list(status_json.SCHEMA["properties"])  # the key order constrained decoding uses


def test_status_heldout_reports_use_agents_and_phrasings_never_trained_on(generated):
    from skillstack.training.demo_skills import status_layouts

    train, heldout, _ = generated["agent-status-json"]
    train_text = " ".join(e["messages"][1]["content"] for e in train)
    for item in heldout:
        assert any(item["expected"]["agent_id"].startswith(prefix) for prefix in status_layouts.HELDOUT_PREFIXES)
    # Whole held-out phrasings (the pools without placeholders): never in a training report.
    heldout_only = [p for pool in (status_layouts.ESCALATE, status_layouts.NO_ESCALATE)
                    for p in pool[-status_layouts.HELD_OUT:]]
    assert heldout_only and not [phrase for phrase in heldout_only if phrase in train_text]


def test_status_rules_python_grader_scores_in_its_isolated_process_as_the_module_does():
    from skillstack.training.demo_skills import status_rules
    from skillstack.training.graders import build_grader

    item = {"messages": [{"role": "user", "content": "ingest-3: 120 tasks completed, 3 failed with TIMEOUT, 5 in progress, "
                                                     "p95 latency 1.8 s. Please page on-call."}]}
    right = {"agent_id": "ingest-3", "status": "degraded", "tasks": {"completed": 120, "failed": 3, "in_progress": 5},
             "latency_p95_ms": 1800, "errors": [{"code": "TIMEOUT", "count": 3}], "escalate": True}
    invented = right | {"errors": [{"code": "TIMEOUT", "count": 3}, {"code": "FAIL", "count": 5}]}
    grader = build_grader(status_rules.grader_spec())
    for output, want in ((right, 1.0), (invented, 1 / 3), (right | {"latency_p95_ms": 1.8}, 2 / 3)):
        sample = {"output_text": json.dumps(output), "output_json": output}
        assert grader.grade(sample, item) == pytest.approx(want) == status_rules.grade(sample, item)
    with_expected = item | {"expected": right}
    assert status_rules.grade({"output_json": invented}, with_expected) == pytest.approx((1 + 7) / 11)


@pytest.mark.parametrize("text,ms", [("p95 latency 1.8 s.", 1800), ("p95=820ms", 820), ("p95_ms=820 p99_ms=1400", 820),
                                     ("p50 40ms, p95 1.2 seconds", 1200), ("p95: 850000 µs", 850), ("p95 2 min", 120000),
                                     ("p95 sits at 820", 820), ("p99 900 ms only", None)])
def test_status_rules_read_the_p95_in_milliseconds(text, ms):
    from skillstack.training.demo_skills.status_rules import p95_ms

    assert p95_ms(text) == ms


def test_seconds_become_milliseconds_and_missing_numbers_zero():
    item = {"expected": {"agent_id": "etl-bot", "status": "ok", "tasks": {"completed": 3, "failed": 0, "in_progress": 0},
                         "latency_p95_ms": 1200, "errors": [], "escalate": False}}
    right = json.dumps(item["expected"])
    assert status_json.score(item, right)["exact_match"] == 1.0
    wrong = json.dumps(item["expected"] | {"latency_p95_ms": 1.2})
    scores = status_json.score(item, wrong)
    assert scores["field:latency_p95_ms"] == 0.0 and scores["schema_valid"] == 1.0 and scores["field_accuracy"] == 7 / 8
    assert status_json.score(item, "not json")["schema_valid"] == 0.0


def test_legal_analyses_cite_only_gold_articles_and_quote_them_verbatim(generated):
    train, heldout, provenance = generated["legal-reasoner"]
    assert "demo/docs" in provenance["corpus"] and provenance["case_records"] >= 100
    by_number = {hit["metadata"]["article"]: hit for hit in legal.code_hits()}
    for item in heldout:
        northwind = item["hits"][0]["source"].startswith("demo/docs/")
        assert not northwind or len(item["hits"]) == legal.HELDOUT_ARTICLES
        assert set(cited_articles(item["reference"])) == set(item["gold_articles"])
        assert check_citations(item["reference"], item["hits"], facts=item["facts"]).ok
        assert legal.score(item, item["reference"])["citation_f1"] == 1.0
        assert legal.score(item, item["reference"])["verdict"] == 1.0
    renumbered = northwind_examples = 0
    for example in train:
        shown = dict(re.findall(r'<article number="(\w+)"[^>]*>\n(.*?)\n</article>', example["messages"][1]["content"], re.S))
        analysis = example["messages"][2]["content"]
        gold = set(cited_articles(analysis))
        hits = [{"text": text, "metadata": {"article": number}} for number, text in shown.items()]
        assert gold < set(shown) and check_citations(analysis, hits).ok
        if all(text.startswith(f"Article {number} ") for number, text in shown.items()):  # a Northwind example
            northwind_examples += 1
            assert len(shown) == max(legal.TRAIN_ARTICLES, len(gold) + 1)
            renumbered += any(text != by_number.get(number, {}).get("text") for number, text in shown.items())
    # Part of training cites articles under numbers the demo Code never used: the number comes from the prompt.
    assert 0.3 < renumbered / northwind_examples < 0.7
    # Clients who name only themselves: some landlords go unnamed, and a sentence still opens with a capital.
    unnamed = [e for e in train if "The landlord " in e["messages"][1]["content"]]
    assert unnamed and not any(". the landlord" in e["messages"][1]["content"] for e in train)


def test_legal_corpus_is_the_demo_code_read_as_retrieved_chunks():
    hits = legal.code_hits()
    assert [h["metadata"]["article"] for h in hits] == [str(n) for n in range(1, 19)]
    assert all(h["source"].startswith("demo/docs/") for h in hits)
    assert set(legal.CASES) <= {h["metadata"]["article"] for h in hits}


def test_legal_scores_penalise_citing_a_distractor():
    by_number = {hit["metadata"]["article"]: hit for hit in legal.code_hits()}
    item = {"gold_articles": ["4"], "facts": "", "hits": [by_number["4"], by_number["6"]]}
    text = "Issue: x\nRule: [Article 4] and [Article 6]\nApplication: y\nConclusion: z"
    scores = legal.score(item, text)
    assert scores["gold_recall"] == 1.0 and scores["citation_precision"] == 0.5 and scores["irac_format"] == 1.0
    assert scores["gate_passed"] == 1.0
    assert legal.score(item, "Rule: [Article 9]")["gate_passed"] == 0.0
    assert legal.score(item, "no citations")["citation_precision"] == 0.0


def test_each_scorer_returns_exactly_its_declared_metrics(generated):
    for name, skill in DEMO_SKILLS.items():
        assert tuple(skill.score(generated[name][1][0], "", None)) == skill.metrics, name


def test_demo_metric_graders_score_as_the_skills_own_scorer_does(generated):
    from skillstack.errors import ConfigError
    from skillstack.training.graders import build_grader

    skill, item = DEMO_SKILLS["brand-voice"], generated["brand-voice"][1][0]
    graders = [build_grader(spec) for spec in skill.graders()]
    sample = {"output_text": item["reference"], "output_json": None}
    assert {g.name: g.grade(sample, item) for g in graders} == skill.score(item, item["reference"])
    with pytest.raises(ConfigError, match="not one of brand-voice's metrics"):
        build_grader({"type": "demo_metric", "name": "nope", "skill": "brand-voice"})
