"""`data advise`: knowledge answers, serialised tables, label imbalance, contradictions and size are each
found with their lines; a clean behaviour set gets no warnings; the CLI prints JSON and one-line errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

from skillstack.cli.main import main
from skillstack.training.data.advise import advise_file
from skillstack.training.data.facts import find_facts, missing_facts
from skillstack.training.data.shapes import is_table_row

NAMES = ["Ana", "Bruno", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ines", "Jonas"]
PROBLEMS = ["arrived damaged", "never arrived", "was charged twice", "came in the wrong size", "is missing a part",
            "was delivered to a neighbour"]


def sentence(seed: int) -> str:
    """A message of its own: eight words drawn from a vocabulary, so no two are near-identical."""
    return " ".join(random.Random(seed).sample(sorted(set(" ".join(PROBLEMS + NAMES).split())), 8))


def chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def behaviour_rows(n: int = 60) -> list[dict]:
    """A brand voice: every fact of the answer is in the prompt, the sign-off is house style."""
    rows = []
    for i in range(n):
        name, problem, order = NAMES[i % 10], PROBLEMS[i % 6], 40_000 + 37 * i
        rows.append(chat(f"Customer {name} writes: my order {order} {problem}. Reply in our voice.",
                         f"Hi {name}, I'm sorry order {order} {problem}. I will sort it out and write back within "
                         f"2 business days.\n\nWarm regards, Lumen Care"))
    return rows


def codes(path: Path) -> dict[str, object]:
    return {a.code: a for a in advise_file(path)}


def test_a_clean_behaviour_dataset_gets_no_findings(tmp_path: Path):
    assert advise_file(write(tmp_path / "voice.jsonl", behaviour_rows())) == []


def test_answers_with_facts_absent_from_the_prompt_are_knowledge_for_rag(tmp_path: Path):
    rows = [chat(f"How much is the {name} plan and when does it renew?",
                 f"The {name} plan costs ${19 + i}.99 a month, renews on March {i % 28 + 1}, 2025, "
                 f"and its code is PLN-{1000 + i}.") for i, name in enumerate(f"{w}{k}" for k in range(6) for w in NAMES)]
    advice = codes(write(tmp_path / "facts.jsonl", rows))["knowledge_in_answers"]
    assert advice.severity == "warning" and "skillstack ingest" in advice.next_step and "60/60" in advice.message
    assert advice.evidence[0].lines == (1,) and "'$19.99'" in advice.evidence[0].values and "PLN-1000" in advice.evidence[0].values


def test_facts_compare_numbers_as_numbers_and_skip_template_slots():
    assert [f.kind for f in find_facts("Refund of $1,299.50 on 2024-03-01 (15% off), ticket ERR-504")] == \
        ["money", "percent", "date", "code"]
    assert missing_facts("You paid 1,200 dollars for order 5512.", "I paid 1200 dollars, order 5512") == []
    assert find_facts("Your order {{Order Number}} ships in 2 days.") == []
    assert [f.text for f in missing_facts("Dear Maria, Carlos from Acme Billing will call.", "I am Maria")] == \
        ["Carlos", "Acme Billing"]


def test_serialised_table_rows_with_label_answers_point_to_a_tabular_learner(tmp_path: Path):
    rows = [chat(f"age={20 + i}, income={30_000 + 250 * i}, region={('north', 'south', 'east')[i % 3]}, "
                 f"plan={('gold', 'basic')[i % 2]}, tenure={i % 7}", ("churn", "stay")[i % 2]) for i in range(60)]
    found = codes(write(tmp_path / "table.jsonl", rows))
    advice = found["serialised_table"]
    assert "XGBoost or LightGBM" in advice.next_step and advice.evidence[0].lines == (1,)
    assert "'churn'" in advice.evidence[0].values
    assert found["label_distribution"].severity == "info" and "label_imbalance" not in found
    assert is_table_row('{"age": 34, "income": 52000, "plan": "gold"}') and is_table_row("34,52000,north,3,yes")
    assert not is_table_row("I want to cancel my order, please, it is late")


def test_a_dominant_label_and_labels_with_few_examples_are_warned(tmp_path: Path):
    labels = ["positive"] * 54 + ["negative"] * 4 + ["neutral"] * 2
    rows = [chat(sentence(i), label) for i, label in enumerate(labels)]
    found = codes(write(tmp_path / "labels.jsonl", rows))
    assert "'positive' is 54/60" in found["label_imbalance"].message
    rare = {e.values: e.lines for e in found["rare_labels"].evidence}
    assert rare == {"'negative' 4": (55, 56, 57, 58), "'neutral' 2": (59, 60)}
    assert "contradictory_answers" not in found


def test_near_identical_prompts_with_different_labels_are_contradictions(tmp_path: Path):
    rows = [chat(f"{NAMES[i % 10]} asks about invoice {1000 + 17 * i} and the {PROBLEMS[i % 6]}", ("billing", "shipping")[i % 2])
            for i in range(56)]
    rows[10] = chat("My card was charged twice for the order 55555!", "billing")
    rows[20] = chat("my card was charged twice for the order 55555", "shipping")
    rows[30] = chat("Where is the parcel I ordered on Monday from your shop", "shipping")
    rows[40] = chat("Where is the parcel I ordered on Monday from your shops", "billing")
    advice = codes(write(tmp_path / "clash.jsonl", rows))["contradictory_answers"]
    assert advice.severity == "warning"
    assert {e.lines for e in advice.evidence} == {(11, 21), (31, 41)}


def test_too_few_examples_names_openai_minimum_or_the_kind_of_skill(tmp_path: Path):
    few = write(tmp_path / "few.jsonl", behaviour_rows(8))
    (advice,) = advise_file(few)
    assert advice.code == "too_few_examples" and "at least 10" in advice.message
    sixty = write(tmp_path / "sixty.jsonl", behaviour_rows())
    (advice,) = advise_file(sixty, kind="tone")
    assert "a tone skill needs about 1000" in advice.message


def test_cli_advise_prints_findings_as_json_and_for_people(tmp_path: Path, capsys, home):
    path = write(tmp_path / "few.jsonl", behaviour_rows(8))
    assert main(["data", "advise", str(path), "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert set(item) == {"severity", "code", "message", "next_step", "evidence"} and item["code"] == "too_few_examples"
    assert main(["data", "advise", str(write(tmp_path / "voice.jsonl", behaviour_rows()))]) == 0
    assert "no findings" in capsys.readouterr().out


def test_cli_advise_missing_file_or_broken_line_is_one_line_naming_file_and_line(tmp_path: Path, capsys, home):
    assert main(["data", "advise", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope.jsonl" in err and "no such file" in err and "\n" not in err
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps(r) + "\n" for r in behaviour_rows(12)) + "{not json\n", encoding="utf-8")
    assert main(["data", "advise", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert "broken.jsonl" in err and "line 13: invalid_json" in err and "\n" not in err
