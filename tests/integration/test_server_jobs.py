"""OpenAI's fine-tuning guide, unchanged, through the official `openai` SDK against `skillstack serve` on loopback.

Real parts: uvicorn on 127.0.0.1 behind a key, the Files store, the worker training the real base
model with LoRA (the registered SFT method) in a child process, the skill published and chatted with
by its `ft:` id. Training is tiny (10 short examples, 1 epoch, 2 steps): the test proves the parts
fit, not that the model learns.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import openai
import pytest

from skillstack.settings import load_settings
from skillstack.skills.server import create_app
from skillstack.skills.server.auth import KeyRing

from server_fixtures import KEY, running

EXAMPLES = [{"messages": [{"role": "user", "content": f"Where is parcel {n}?"},
                          {"role": "assistant", "content": "It ships today. Best, the Acme team"}]} for n in range(10)]
PAIRS = [{"input": {"messages": [{"role": "user", "content": f"Greet customer {n}."}]},
          "preferred_output": [{"role": "assistant", "content": "Hello!"}],
          "non_preferred_output": [{"role": "assistant", "content": "What."}]} for n in range(10)]
TINY = {"n_epochs": 1, "batch_size": 5}


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> None:
    # The training child inherits the environment: one BLAS thread on a shared CPU.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def jobs_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jobs-home")


@pytest.fixture(scope="module")
def url(jobs_home: Path):
    with running(create_app(load_settings(jobs_home), keys=KeyRing.of([KEY]))) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def client(url: str):
    return openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)


@pytest.fixture(scope="module")
def training_file(client, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = _jsonl(tmp_path_factory.mktemp("data") / "train.jsonl", EXAMPLES)
    return client.files.create(file=path.open("rb"), purpose="fine-tune").id


def _wait(client, job_id: str, *, until: tuple[str, ...] = ("succeeded", "failed", "cancelled"), timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in until:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job.status}")


def test_the_fine_tuning_guide_workflow_trains_a_skill_callable_by_its_ft_id(client, training_file, tmp_path) -> None:
    validation = client.files.create(file=_jsonl(tmp_path / "valid.jsonl", EXAMPLES).open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=training_file, validation_file=validation.id, model="base",
                                         suffix="tiny", seed=7, metadata={"team": "support"},
                                         method={"type": "supervised", "supervised": {"hyperparameters": TINY}})
    assert job.id.startswith("ftjob-") and job.status == "queued" and job.method.type == "supervised"
    job = _wait(client, job.id)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model.startswith("ft:") and job.fine_tuned_model.endswith(f":skillstack:tiny:{job.id}")
    assert job.trained_tokens > 0 and job.finished_at >= job.created_at and job.estimated_finish is None

    events = list(client.fine_tuning.jobs.list_events(fine_tuning_job_id=job.id, limit=100))
    metrics = [e.data for e in events if e.type == "metrics"]
    assert sorted(m["step"] for m in metrics) == [1, 2]
    assert all(m["train_loss"] > 0 and "train_mean_token_accuracy" in m and "valid_loss" in m for m in metrics)
    assert events[0].message == "The job has successfully completed"  # newest first, as OpenAI pages them

    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in checkpoints] == [2]
    assert checkpoints[0].fine_tuned_model_checkpoint == f"{job.fine_tuned_model}:ckpt-step-2"
    assert checkpoints[0].metrics.train_loss > 0

    results = client.files.content(job.result_files[0]).text.splitlines()
    assert results[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy" and len(results) == 3

    assert job.fine_tuned_model in [m.id for m in client.models.list()]  # no restart needed
    answer = client.chat.completions.create(model=job.fine_tuned_model, max_tokens=8,
                                            messages=[{"role": "user", "content": "Where is parcel 3?"}])
    assert answer.choices[0].message.content and answer.model

    listed = client.fine_tuning.jobs.list(metadata={"team": "support"})
    assert [j.id for j in listed.data] == [job.id]
    assert client.fine_tuning.jobs.list(metadata={"team": "other"}).data == []


@pytest.mark.parametrize("hyperparameters, param", [
    ({"n_epochs": 0}, "method.supervised.hyperparameters.n_epochs"),
    ({"learning_rate_multiplier": -1}, "method.supervised.hyperparameters.learning_rate_multiplier"),
    ({"batch_size": "big"}, "method.supervised.hyperparameters.batch_size"),
    ({"warmup": 3}, "method.supervised.hyperparameters.warmup"),
])
def test_bad_hyperparameters_are_a_bad_request_naming_the_param(client, training_file, hyperparameters, param) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(training_file=training_file, model="base",
                                       method={"type": "supervised", "supervised": {"hyperparameters": hyperparameters}})
    assert caught.value.body["param"] == param


def test_deprecated_hyperparameters_and_bad_suffix_model_and_beta(client, training_file) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(training_file=training_file, model="base", hyperparameters={"n_epochs": 99})
    assert caught.value.body["param"] == "hyperparameters.n_epochs"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(training_file=training_file, model="base", suffix="x" * 65)
    assert caught.value.body["param"] == "suffix"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(training_file=training_file, model="gpt-4o-mini-2024-07-18")
    assert caught.value.body["param"] == "model"


def test_an_unknown_training_file_is_refused_naming_it(client) -> None:
    for file_id in ("file-000000000000000000000000", "../../etc/passwd"):
        with pytest.raises(openai.BadRequestError) as caught:
            client.fine_tuning.jobs.create(training_file=file_id, model="base")
        assert caught.value.body["param"] == "training_file"
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-000000000000000000000000")


def test_a_file_in_the_wrong_format_fails_the_job_naming_the_file(client, training_file) -> None:
    job = client.fine_tuning.jobs.create(training_file=training_file, model="base",
                                         method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}})
    assert job.status == "failed" and job.error.param == "training_file" and "preference" in job.error.message


def test_a_dpo_job_trains_through_the_registered_dpo_method(client, tmp_path) -> None:
    pairs = client.files.create(file=_jsonl(tmp_path / "pairs.jsonl", PAIRS).open("rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(training_file=pairs.id, model="base", suffix="prefer",
                                         method={"type": "dpo", "dpo": {"hyperparameters": {**TINY, "beta": 0.2}}})
    job = _wait(client, job.id)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model in [m.id for m in client.models.list()]
    assert any(e.type == "metrics" for e in client.fine_tuning.jobs.list_events(job.id, limit=100))


def test_cancel_stops_a_job_and_a_finished_job_cannot_be_cancelled(client, training_file, jobs_home) -> None:
    job = client.fine_tuning.jobs.create(training_file=training_file, model="base", suffix="gone",
                                         method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}})
    _wait(client, job.id, until=("running",), timeout=60)
    assert client.fine_tuning.jobs.cancel(job.id).status == "cancelled"
    time.sleep(2)  # the worker ends the training child; nothing it wrote may turn the job into a success
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    assert not list((jobs_home / "skills").glob("gone-*"))
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job.id)


def test_a_paused_job_stays_paused_until_resumed_then_succeeds(client, training_file) -> None:
    job = client.fine_tuning.jobs.create(training_file=training_file, model="base", suffix="later",
                                         method={"type": "supervised", "supervised": {"hyperparameters": TINY}})
    _wait(client, job.id, until=("running",), timeout=60)
    assert client.fine_tuning.jobs.pause(job.id).status == "paused"
    time.sleep(2)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.pause(job.id)
    assert client.fine_tuning.jobs.resume(job.id).status == "queued"
    assert _wait(client, job.id).status == "succeeded"


def test_graders_validate_and_run_through_the_sdk(client) -> None:
    exact = {"type": "string_check", "name": "exact", "operation": "eq", "input": "{{sample.output_text}}",
             "reference": "{{item.answer}}"}
    assert client.fine_tuning.alpha.graders.validate(grader=exact).grader.name == "exact"
    both = {"type": "multi", "name": "both", "calculate_output": "exact * 0.5 + 0.5",
            "graders": {"exact": exact}}
    ran = client.fine_tuning.alpha.graders.run(grader=both, model_sample="refund", item={"answer": "refund"})
    assert ran.reward == 1.0 and ran.sub_rewards == {"exact": 1.0}
    missed = client.fine_tuning.alpha.graders.run(grader=exact, model_sample="order", item={"answer": "refund"})
    assert missed.reward == 0.0
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.alpha.graders.run(grader=exact, model_sample="order", item={})
    assert caught.value.body["param"] == "item"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.alpha.graders.validate(grader={"type": "string_check", "name": "x", "operation": "nope"})
    assert caught.value.body["param"] == "grader"


def test_requests_without_the_key_are_401(url: str) -> None:
    for key in ("", "sk-wrong"):
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url, api_key=key or "x", max_retries=0,
                          default_headers={} if key else {"Authorization": ""}).fine_tuning.jobs.list()


def test_a_job_running_when_the_server_stopped_resumes_from_its_checkpoint_on_restart(tmp_path) -> None:
    home = tmp_path / "home"
    # 100 one-example steps: the trainer writes its resumable checkpoint at step 50 (save_every), mid-run.
    long_run = {"n_epochs": 10, "batch_size": 1}
    with running(create_app(load_settings(home), keys=KeyRing.of([KEY]))) as url:
        client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        uploaded = client.files.create(file=_jsonl(tmp_path / "t.jsonl", EXAMPLES).open("rb"), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(training_file=uploaded.id, model="base", suffix="again",
                                             method={"type": "supervised", "supervised": {"hyperparameters": long_run}})
        deadline = time.monotonic() + 600
        while not client.fine_tuning.jobs.checkpoints.list(job.id).data and time.monotonic() < deadline:
            time.sleep(0.2)
        running_job = client.fine_tuning.jobs.retrieve(job.id)
        assert running_job.status == "running"
        # at its pace so far: in the future, and before a (generous) hour from now
        assert time.time() - 5 < running_job.estimated_finish < time.time() + 3600
    with running(create_app(load_settings(home), keys=KeyRing.of([KEY]))) as url:
        client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
        assert client.fine_tuning.jobs.retrieve(job.id).status in ("queued", "running", "succeeded")
        assert _wait(client, job.id).status == "succeeded"
        messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=1000)]
        assert any("server restarted" in m for m in messages)
        assert [c.step_number for c in client.fine_tuning.jobs.checkpoints.list(job.id).data] == [100, 50]
    from skillstack.skills.manifest import load_manifest

    (skill,) = (home / "skills").glob("again-*")
    assert load_manifest(skill).provenance["run"]["resumed_from_step"] == 50
