"""kind = "classify" with the real base model: label-constrained decoding, a tiny train + eval into a card, the bundled skill."""

from __future__ import annotations

import dataclasses
import json

import pytest

from skillstack.cli.main import main
from skillstack.skills.registry import BUNDLED_DIR
from skillstack.skills.runtime import chat_model
from skillstack.training.demo_skills import DEMO_SKILLS, classifier
from skillstack.training.eval_card import CONFUSION_FILES, EVAL_REPORT_FILE, load_card

pytestmark = pytest.mark.slow


def test_label_constrained_decoding_can_only_answer_one_label_even_when_asked_for_a_poem(shared_settings) -> None:
    labels = ["ORDER", "ORDERS", "REFUND", "a b.c"]  # a label that prefixes another, and one with regex characters
    model = chat_model(shared_settings, "base", system_prompt="You are a poet. Answer with a long poem.", max_tokens=12)
    answers = model.batch(["Write a poem about the sea.", "Where is my parcel?"], labels=labels)
    for answer in answers:
        assert answer.content in labels and answer.response_metadata["label"] == answer.content
    free = model.invoke("Write a poem about the sea.")  # the same model without the constraint writes text
    assert free.content not in labels and "label" not in free.response_metadata


def test_a_tiny_classifier_trains_and_its_card_has_accuracy_macro_f1_and_confusion_pngs(settings, tmp_path) -> None:
    from skillstack.training.demo_skills.build import build_demo_skill

    # Built-in messages (no corpus): 22 training rows, 11 held out; a few of them stand in for the unseen set.
    demo = dataclasses.replace(DEMO_SKILLS[classifier.NAME], n_train=22, n_heldout=11, unseen_source="stand-in",
                               unseen=lambda: classifier.generate(3, n_train=0, n_heldout=11, corpus_csv=None)[1][:4],
                               training={"lora_r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"],
                                         "n_epochs": 1, "batch_size": 4, "max_seq_len": 96, "seed": 7})
    folder = build_demo_skill(settings, demo, data_dir=tmp_path / "data", dest_root=tmp_path / "skills", progress=False)
    card = load_card(folder)
    assert card.labels == classifier.LABELS and card.items == 11 and card.unseen.items == 4
    assert card.unseen.data == "stand-in"
    for condition in (*card.conditions, *card.unseen.conditions):
        assert 0.0 <= condition.metrics["accuracy"] <= 1.0 and 0.0 <= condition.metrics["macro_f1"] <= 1.0
        assert len(condition.confusion) == len(classifier.LABELS)
    assert sum(map(sum, card.conditions[0].confusion)) == 11  # every answer is a label: the constraint holds
    assert [c.label for c in card.conditions] == ["skill", "base + label list, constrained"]
    for name in CONFUSION_FILES.values():
        assert (folder / name).read_bytes()[:4] == b"\x89PNG"
    assert "macro_f1" in (folder / EVAL_REPORT_FILE).read_text(encoding="utf-8")


def test_the_bundled_classifier_is_discovered_and_run_prints_a_label(shared_settings, capsys) -> None:
    home = str(shared_settings.home)
    assert main(["--home", home, "skills", "show", classifier.NAME, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["kind"] == "classify" and shown["labels"] == classifier.LABELS
    assert main(["--home", home, "run", classifier.NAME, "I was charged twice, I want my money back", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["label"] == result["output"] and result["label"] in classifier.LABELS
    assert main(["--home", home, "run", classifier.NAME, "how do I unsubscribe from your newsletter?"]) == 0
    assert capsys.readouterr().out.strip() == "NEWSLETTER"
    assert (BUNDLED_DIR / classifier.NAME / CONFUSION_FILES[""]).exists()


def test_the_server_answers_a_classify_skill_with_a_label_as_the_message_content(shared_settings) -> None:
    from fastapi.testclient import TestClient

    from skillstack.skills.server import create_app
    from skillstack.skills.server.auth import KeyRing

    client = TestClient(create_app(shared_settings, keys=KeyRing.of(["sk-test-classify"])),
                        headers={"Authorization": "Bearer sk-test-classify"})
    body = {"model": classifier.NAME, "messages": [{"role": "user", "content": "Where can I download my invoice?"}]}
    reply = client.post("/v1/chat/completions", json=body).json()
    assert reply["choices"][0]["message"]["content"] in classifier.LABELS
    streamed = client.post("/v1/chat/completions", json=body | {"stream": True}).text
    assert reply["choices"][0]["message"]["content"] in streamed


def test_skillstack_eval_of_a_classify_skill_needs_no_grader_and_reports_macro_f1(shared_settings, tmp_path, capsys) -> None:
    prompt = tmp_path / "labels.txt"
    prompt.write_text(classifier.LABEL_LIST_PROMPT, encoding="utf-8")
    argv = ["--home", str(shared_settings.home), "eval", classifier.NAME, "--data", str(BUNDLED_DIR / classifier.NAME /
            "heldout.jsonl"), "--limit", "3", "--against", "none", "--constrained-baseline", f"labels={prompt}",
            "--primary", "macro_f1", "--no-write", "--json"]
    assert main(argv) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["labels"] == classifier.LABELS and card["primary_metric"] == "macro_f1" and card["graders"] == []
    assert [c["label"] for c in card["conditions"]] == ["skill", "labels"]
    assert all(set(c["metrics"]) == {"accuracy", "macro_f1"} and c["constrained"] for c in card["conditions"][1:])
