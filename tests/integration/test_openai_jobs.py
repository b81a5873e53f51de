"""The OpenAI fine-tuning job flow against a real local HTTP server speaking OpenAI's API, via the real SDK."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from fakes.openai_cloud import FakeOpenAICloud

from skillstack.cli.main import main
from skillstack.errors import TrainingError
from skillstack.settings import load_settings
from skillstack.training.openai_jobs import JobConfig, create_job, openai_client, wait_for_job, write_openai_skill

BASE = "gpt-4o-mini-2024-07-18"


def chat_rows(n: int, start: int = 0) -> list[dict]:
    return [{"messages": [{"role": "user", "content": f"Where is parcel {i}?"},
                          {"role": "assistant", "content": f"Arr, parcel {i} be sailing to ye!"}]} for i in range(start, start + n)]


def write(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def cloud(home: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAICloud() as server:
        monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
        monkeypatch.setenv("SKILLSTACK_OPENAI_BASE_URL", server.base_url)
        yield server


def test_cli_job_runs_to_a_skill_folder_with_backend_openai(cloud, home: Path, tmp_path: Path, capsys):
    train = write(tmp_path / "train.jsonl", chat_rows(20))
    val = write(tmp_path / "val.jsonl", chat_rows(10, start=100))
    code = main(["jobs", "create", str(train), "--model", BASE, "--suffix", "pirate-voice", "--validation-file", str(val),
                 "--n-epochs", "2", "--wait", "--poll-interval", "0", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    job = result["job"]
    assert job["status"] == "succeeded"
    assert job["fine_tuned_model"].startswith(f"ft:{BASE}:skillstack-test:pirate-voice:")
    assert job["hyperparameters"]["n_epochs"] == 2 and job["method"]["type"] == "supervised"
    assert [f["purpose"] for f in cloud.uploads()] == ["fine-tune", "fine-tune"]

    folder = Path(result["skill"])
    assert folder == home / "skills" / "pirate-voice"
    manifest = tomllib.loads((folder / "skill.toml").read_text())
    assert manifest["backend"] == "openai" and manifest["model"] == job["fine_tuned_model"] and manifest["base_model"] == BASE
    provenance = manifest["provenance"]
    assert provenance["model_id"] == job["fine_tuned_model"] and len(provenance["dataset_sha256"]) == 64
    assert provenance["metrics"]["valid_loss"] < 1 and provenance["promoted"] is False
    curve = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in curve] == list(range(1, 7))
    assert curve[-1]["train_loss"] < curve[0]["train_loss"]

    assert main(["jobs", "events", job["id"], "--json"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert events["loss"] == curve and events["events"][0]["message"].startswith("Created fine-tuning job")
    assert main(["jobs", "list", "--json"]) == 0
    assert [j["id"] for j in json.loads(capsys.readouterr().out)["jobs"]] == [job["id"]]


def test_the_written_skill_answers_through_the_skills_runtime(cloud, home: Path, tmp_path: Path):
    from skillstack.skills.runtime import chat_model

    settings = load_settings(home)
    job = create_job(settings, write(tmp_path / "train.jsonl", chat_rows(12)), JobConfig(model=BASE, suffix="pirate"))
    job = wait_for_job(settings, job["id"], poll_interval=0)
    write_openai_skill(settings, job)
    reply = chat_model(settings, "pirate").invoke("Where is parcel 7?")
    assert reply.content == "Arr, parcel 7 be sailing to ye!"


def test_invalid_data_is_refused_before_any_upload(cloud, home: Path, tmp_path: Path, capsys):
    bad = write(tmp_path / "bad.jsonl", chat_rows(12) + [{"messages": [{"role": "user", "content": "no answer"}]}])
    assert main(["jobs", "create", str(bad), "--model", BASE]) == 2
    assert "example_missing_assistant_message" in capsys.readouterr().err
    good = write(tmp_path / "good.jsonl", chat_rows(12))
    assert main(["jobs", "create", str(good), "--model", BASE, "--method", "dpo"]) == 2
    assert "preference" in capsys.readouterr().err
    assert not [path for method, path in cloud.state.requests if path.endswith("/files")]


def test_dpo_and_reinforcement_jobs_send_their_method(cloud, home: Path, tmp_path: Path):
    settings = load_settings(home)
    pairs = [{"input": {"messages": [{"role": "user", "content": f"hi {i}"}]},
              "preferred_output": [{"role": "assistant", "content": "Ahoy!"}],
              "non_preferred_output": [{"role": "assistant", "content": "Hello."}]} for i in range(12)]
    dpo = create_job(settings, write(tmp_path / "dpo.jsonl", pairs), JobConfig(model=BASE, method="dpo", beta=0.2))
    assert dpo["method"]["dpo"]["hyperparameters"]["beta"] == 0.2
    grader = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}", "reference": "{{item.answer}}",
              "operation": "eq"}
    rows = [{"messages": [{"role": "user", "content": f"{i}+{i}?"}], "answer": str(2 * i)} for i in range(12)]
    rft = create_job(settings, write(tmp_path / "rft.jsonl", rows), JobConfig(model="o4-mini", method="reinforcement", grader=grader))
    assert rft["method"]["reinforcement"]["grader"] == grader
    assert wait_for_job(settings, rft["id"], poll_interval=0)["status"] == "succeeded"


def test_a_job_the_cloud_rejects_ends_failed_and_writes_no_skill(cloud, home: Path, tmp_path: Path, capsys):
    settings = load_settings(home)
    client = openai_client(settings)
    with open(write(tmp_path / "few.jsonl", chat_rows(3)), "rb") as handle:
        upload = client.files.create(file=handle, purpose="fine-tune")
    created = client.fine_tuning.jobs.create(model=BASE, training_file=upload.id, suffix="few")
    job = wait_for_job(settings, created.id, poll_interval=0)
    assert job["status"] == "failed" and "at least 10" in job["error"]["message"]
    with pytest.raises(TrainingError, match="not succeeded"):
        write_openai_skill(settings, job)
    assert main(["jobs", "status", created.id, "--write-skill"]) == 0
    assert "failed" in capsys.readouterr().out
    assert not (home / "skills" / "few").exists()


def test_missing_api_key_is_a_clear_error(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["jobs", "list"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_vision_examples_are_validated_and_uploaded_as_they_are(cloud, home: Path, tmp_path: Path):
    image = {"type": "image_url", "image_url": {"url": "https://example.com/parcel.png", "detail": "low"}}
    rows = [{"messages": [{"role": "user", "content": [{"type": "text", "text": f"What is in photo {i}?"}, image]},
                          {"role": "assistant", "content": "A parcel."}]} for i in range(12)]
    path = write(tmp_path / "vision.jsonl", rows)
    job = create_job(load_settings(home), path, JobConfig(model="gpt-4o-2024-08-06", suffix="eyes"))
    assert cloud.state.contents[job["training_file"]] == path.read_bytes()
