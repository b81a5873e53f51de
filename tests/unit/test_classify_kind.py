"""kind = "classify" without models: the labels field's checks, the label regex and check, the classification card."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skillstack.errors import OutputValidationError, SkillError
from skillstack.skills.manifest import SkillManifest, load_manifest, write_manifest
from skillstack.skills.structured import check_label, labels_regex
from skillstack.training.classification import classification_scores, plot_confusion
from skillstack.training.eval_card import CONFUSION_FILES, Condition, EvalCard, Evaluation, card_report, load_card

HEAD = 'version = 1\nname = "clf"\nbase_model = "b"\n'


def test_a_classify_manifest_with_labels_reads_back_identically(tmp_path: Path) -> None:
    manifest = SkillManifest(name="clf", kind="classify", base_model="b", labels=["ORDER", "REFUND", "a b.c"])
    write_manifest(tmp_path, manifest)
    assert load_manifest(tmp_path) == manifest


@pytest.mark.parametrize(("body", "field", "problem"), [
    ('kind = "classify"\n', "labels", "2 to 100 labels"),
    ('kind = "classify"\nlabels = ["ONLY"]\n', "labels", "2 to 100 labels"),
    ('kind = "classify"\nlabels = [' + ", ".join(f'"L{i}"' for i in range(101)) + "]\n", "labels", "got 101"),
    ('kind = "classify"\nlabels = ["A", "B", "A"]\n', "labels", "'A' twice"),
    ('kind = "classify"\nlabels = ["A", ""]\n', r"labels\[2\]", "non-empty"),
    ('kind = "classify"\nlabels = ["A", " B"]\n', r"labels\[2\]", "leading/trailing"),
    ('kind = "classify"\nlabels = ["A", "two\\nlines"]\n', r"labels\[2\]", "one-line"),
    ('kind = "classify"\nlabels = ["A", "' + "x" * 65 + '"]\n', r"labels\[2\]", "at most 64"),
    ('kind = "classify"\nlabels = ["A", 3]\n', "labels", ""),
    ('kind = "classify"\nlabels = ["A", "B"]\noutput = "json"\nschema = "s.json"\n', "output", "must be \"text\""),
    ('kind = "tone"\nlabels = ["A", "B"]\n', "labels", "only for kind"),
])
def test_bad_labels_are_refused_naming_the_file_and_the_field(tmp_path: Path, body: str, field: str, problem: str) -> None:
    (tmp_path / "skill.toml").write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(SkillError, match=rf"skill\.toml: field '{field}'.*{re.escape(problem)}"):
        load_manifest(tmp_path)


def test_unknown_kinds_are_still_refused(tmp_path: Path) -> None:
    (tmp_path / "skill.toml").write_text(HEAD + 'kind = "classifier"\n', encoding="utf-8")
    with pytest.raises(SkillError, match="field 'kind' must be one of tone, format, reasoning, classify, other"):
        load_manifest(tmp_path)


def test_the_label_regex_matches_exactly_one_label_and_nothing_else() -> None:
    labels = ["ORDER", "ORDERS", "a.b", "x|y", "(z)"]
    pattern = re.compile(labels_regex(labels))
    assert all(pattern.fullmatch(label) for label in labels)
    for other in ("ORDE", "ORDERSS", "aXb", "x", "y", "z", "ORDER ", ""):
        assert not pattern.fullmatch(other), other


def test_an_answer_outside_the_labels_is_an_output_validation_error() -> None:
    assert check_label(" REFUND\n", ["ORDER", "REFUND"]) == "REFUND"
    with pytest.raises(OutputValidationError, match="none of the skill's 2 labels"):
        check_label("refund", ["ORDER", "REFUND"])


def test_classification_scores_give_accuracy_macro_f1_and_the_confusion_matrix() -> None:
    labels = ["A", "B", "C"]
    scores = classification_scores(labels, ["A", "A", "B", "C"], ["A", "B", "B", ""])
    assert scores["accuracy"] == 0.5
    # per-label F1: A 2/3, B 2/3, C 0 -> macro 4/9
    assert scores["macro_f1"] == pytest.approx(4 / 9, abs=1e-4)
    assert scores["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]  # the failed answer "" falls in no column


def _card(labels: list[str], *, unseen: EvalCard | None = None) -> EvalCard:
    rows = [Condition(label=name, model=model, metrics={"accuracy": acc, "macro_f1": f1}, confusion=[[2, 0], [1, 1]])
            for name, model, acc, f1 in (("skill", "clf", 0.75, 0.73), ("base + labels", "base", 0.5, 0.33))]
    return EvalCard(skill="clf", data="heldout.jsonl", data_sha256="0" * 64, items=4, graders=[],
                    primary_metric="accuracy", conditions=rows, promoted=True, labels=labels, unseen=unseen)


def test_a_classify_card_with_an_unseen_set_round_trips_and_draws_both_confusion_matrices(tmp_path: Path) -> None:
    card = _card(["A", "B"], unseen=_card(["A", "B"]))
    card.unseen.data = "bench/unseen/x.jsonl"
    Evaluation(card=card).write_into(tmp_path)
    assert load_card(tmp_path) == card
    for name in CONFUSION_FILES.values():
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = card_report(card)
    assert "| skill | 0.0 | 0.750 | 0.730 |" in report and "## Unseen set: 4 items (`bench/unseen/x.jsonl`)" in report
    assert "confusion_matrix_unseen.png" in report


def test_a_confusion_plot_has_one_panel_per_condition(tmp_path: Path) -> None:
    path = plot_confusion(["A", "B"], {"skill": [[1, 0], [0, 1]], "base": [[0, 1], [1, 0]]}, tmp_path / "c.png", title="t")
    from PIL import Image

    width, height = Image.open(path).size
    assert width > 1.8 * height  # two square panels side by side


def test_a_classify_training_run_without_enough_labels_is_refused_before_training() -> None:
    from skillstack.cli.cmd_train import build_run

    _, spec = build_run("sft", {}, {"suffix": "clf", "kind": "classify", "labels": ["A", "B"]}, "flags")
    spec.check()
    assert spec.labels == ["A", "B"]
    _, spec = build_run("sft", {}, {"suffix": "clf", "kind": "classify", "labels": ["A"]}, "flags")
    with pytest.raises(SkillError, match=r"\[skill\]: field 'labels' must list 2 to 100 labels"):
        spec.check()
