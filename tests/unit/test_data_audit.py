"""`data audit`: exact, near-duplicate and n-gram leakage between a train and an eval file, with lines on
both sides; label answers are not compared; 1,000 x 1,000 rows in seconds; the CLI is a report unless --fail-over."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from skillstack.cli.main import main
from skillstack.training.data.audit import audit_files, audit_rows
from skillstack.training.data.rows import Row

VOCABULARY = ("order parcel refund invoice card account password delivery address courier warehouse label "
              "printer screen battery charger cable manual warranty receipt discount coupon voucher basket "
              "checkout payment transfer bank branch loan mortgage savings interest statement balance").split()


def text(seed: int, words: int = 12) -> str:
    return " ".join(random.Random(seed).choices(VOCABULARY, k=words))


def chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "system", "content": "You are the support desk."},
                         {"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def files(tmp_path: Path) -> tuple[Path, Path]:
    train = [chat(text(i), text(1000 + i, 20)) for i in range(30)]
    evals = [chat(text(500 + i), text(2000 + i, 20)) for i in range(10)]
    evals[1] = chat(train[4]["messages"][1]["content"].upper() + "!", text(3001, 20))    # exact, but for case
    prompt = train[7]["messages"][1]["content"]
    evals[3] = chat(prompt.replace(prompt.split()[5], "zebra"), text(3003, 20))       # one word changed
    evals[5] = chat(text(3005) + " " + train[9]["messages"][1]["content"], text(3006, 20))  # a long shared passage
    evals[6] = chat(text(3007), train[12]["messages"][2]["content"])                  # a copied answer
    return write(tmp_path / "train.jsonl", train), write(tmp_path / "eval.jsonl", evals)


def test_exact_near_and_ngram_leaks_are_found_with_lines_on_both_sides(tmp_path: Path):
    report = audit_files(*files(tmp_path))
    prompts = {(p["eval_line"], p["train_line"]): p["match"] for p in report["prompts"]["pairs"]}
    assert prompts == {(2, 5): "exact", (4, 8): "near", (6, 10): "ngram"}
    assert report["prompts"]["exact"] == 1 and report["prompts"]["near"] == 1 and report["prompts"]["leaked_share"] == 0.2
    # The changed word sits in every 8-gram of the near-duplicate: only the copy and the passage overlap.
    assert report["prompts"]["ngram"]["rows_with_overlap"] == 2 and report["prompts"]["ngram"]["max_row_share"] == 1.0
    answers = report["answers"]
    assert answers["exact"] == 1 and answers["pairs"][0]["eval_line"] == 7 and answers["pairs"][0]["train_line"] == 13
    assert report["leaked_share"] == 0.2


def test_the_shared_system_prompt_and_label_answers_do_not_count_as_leaks():
    rows = [Row(line=i + 1, context=f"You are a classifier.\n{text(i)}", user=text(i), answer=("yes", "no")[i % 2])
            for i in range(20)]
    report = audit_rows(rows[:10], rows[10:])
    assert report["leaked_share"] == 0 and report["answers"]["compared"] == 0 and report["answers"]["labels_skipped"] == 10


def test_a_thousand_by_a_thousand_rows_audit_in_seconds_and_find_planted_near_duplicates():
    train = [Row(line=i + 1, context="", user=text(i, 25), answer=text(10_000 + i, 40)) for i in range(1000)]
    evals = [Row(line=i + 1, context="", user=text(20_000 + i, 25), answer=text(30_000 + i, 40)) for i in range(1000)]
    for k in range(0, 1000, 100):  # every 100th eval prompt is a train prompt with one word changed
        evals[k] = Row(line=k + 1, context="", user=train[k].user.replace(train[k].user.split()[3], "zebra", 1),
                       answer=evals[k].answer)
    started = time.perf_counter()
    report = audit_rows(train, evals)
    assert time.perf_counter() - started < 30
    assert report["prompts"]["near"] == 10 and report["prompts"]["exact"] == 0
    assert {p["eval_line"] for p in report["prompts"]["pairs"] if p["match"] == "near"} == set(range(1, 1001, 100))


def test_cli_audit_is_a_report_with_json_unless_fail_over(tmp_path: Path, capsys, home):
    train, evals = files(tmp_path)
    assert main(["data", "audit", str(train), str(evals), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["eval_rows"] == 10 and report["options"] == {"ngram": 8, "near": 90.0, "top": 10}
    assert main(["data", "audit", str(train), str(evals)]) == 0
    out = capsys.readouterr().out
    assert "eval 2 <- train 5  exact" in out and "leaked: 20.0% of eval rows" in out
    assert main(["data", "audit", str(train), str(evals), "--fail-over", "0.1"]) == 1
    assert main(["data", "audit", str(train), str(evals), "--fail-over", "0.5"]) == 0


def test_cli_audit_missing_file_or_broken_line_is_one_line_naming_file_and_line(tmp_path: Path, capsys, home):
    train, evals = files(tmp_path)
    assert main(["data", "audit", str(train), str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope.jsonl: no such file" in err and "\n" not in err
    evals.write_text(evals.read_text() + '{"messages": []}\n', encoding="utf-8")
    assert main(["data", "audit", str(train), str(evals)]) == 2
    err = capsys.readouterr().err.strip()
    assert "eval.jsonl" in err and "line 11: missing_messages_list" in err and "\n" not in err


def test_rows_of_every_format_give_the_prompt_and_the_reference_answer(tmp_path: Path):
    from skillstack.training.data.rows import read_rows

    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is my parcel?"}]
    preference = {"input": {"messages": prompt}, "preferred_output": [{"role": "assistant", "content": "On its way."}],
                  "non_preferred_output": [{"role": "assistant", "content": "No idea."}]}
    reinforcement = {"messages": prompt, "reference": "On its way."}
    for example, fmt in ((preference, "preference"), (reinforcement, "reinforcement")):
        found, rows = read_rows(write(tmp_path / f"{fmt}.jsonl", [example] * 2))
        assert found == fmt
        assert rows[1] == Row(line=2, context="Be brief.\nWhere is my parcel?", user="Where is my parcel?", answer="On its way.")
