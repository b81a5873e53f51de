"""One failing item fails only itself: in the local engine's merged batches and in every CLI --input mode."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from skillstack.cli.main import main
from skillstack.errors import InputError

from skills_fixtures import STATUS_SCHEMA, skills_home  # noqa: F401 - a fixture
from skillstack.skills.structured import schema_errors

# outlines cannot compile this schema, so the JSON constraint of its request raises inside generate().
UNCOMPILABLE = {"type": "object", "properties": {"a": {"$ref": "#/definitions/missing"}}}


@pytest.mark.slow
def test_a_request_that_breaks_generate_fails_only_its_own_future_in_a_merged_batch(settings) -> None:
    from skillstack.settings import with_overrides
    from skillstack.skills.backends.requests import ChatRequest
    from skillstack.skills.runtime import get_runtime

    # The older gathering batcher (the continuous scheduler's own isolation: test_continuous_batching.py).
    batcher = get_runtime(with_overrides(settings, local_batching="gather")).batcher
    engine = batcher.engine
    sizes: list[int] = []
    real_generate = engine.generate

    def recording(requests):
        sizes.append(len(requests))
        return real_generate(requests)

    engine.generate = recording

    def request(text: str, schema: dict | None = None) -> ChatRequest:
        return ChatRequest(messages=[{"role": "user", "content": text}], max_tokens=3, json_schema=schema)

    # Hold the engine so the worker blocks on a first request; the next three then queue up and merge.
    with engine.lock:
        first = batcher.submit(request("Hello."))
        while not batcher._queue.empty():
            time.sleep(0.01)
        time.sleep(0.2)  # past the worker's gather window: it now waits on the lock
        futures = [batcher.submit(request("Say hi.")), batcher.submit(request("Status?", UNCOMPILABLE)),
                   batcher.submit(request("Say bye."))]
    assert first.result(timeout=300).completion_tokens > 0
    good, bad, other = futures
    assert good.result(timeout=300).completion_tokens > 0 and other.result(timeout=300).completion_tokens > 0
    with pytest.raises(ValueError, match="reference"):
        bad.result(timeout=300)
    assert 3 in sizes  # the three were one generate() call, which failed and was served item by item


def _lines(capsys: pytest.CaptureFixture) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]


@pytest.mark.slow
def test_run_batch_prints_a_result_or_an_error_object_per_line_in_order(skills_home: Path, tmp_path: Path,
                                                                         capsys) -> None:
    batch = tmp_path / "reports.jsonl"
    batch.write_text('{"text": "The API is down."}\n{"text": broken}\n\n{"text": "All systems nominal."}\n')
    code = main(["--home", str(skills_home), "run", "status-json", "--input", str(batch)])
    first, broken, last = _lines(capsys)
    assert code == 1
    assert schema_errors(first["parsed"], STATUS_SCHEMA) == [] and schema_errors(last["parsed"], STATUS_SCHEMA) == []
    assert broken["line"] == 2 and broken["error"]["type"] == "InputError" and "reports.jsonl:2" in broken["error"]["message"]


@pytest.mark.slow
def test_an_item_failing_in_the_model_becomes_its_own_error_line(skills_home: Path, tmp_path: Path, capsys) -> None:
    # One token can never hold a status object: every attempt fails validation, and each line says so.
    batch = tmp_path / "reports.jsonl"
    batch.write_text('{"text": "The API is down."}\n[]\n{"text": "Disk full."}\n')
    code = main(["--home", str(skills_home), "run", "status-json", "--input", str(batch), "--max-tokens", "1"])
    rows = _lines(capsys)
    assert code == 1 and [row["line"] for row in rows] == [1, 2, 3]
    assert [row["error"]["type"] for row in rows] == ["OutputValidationError", "InputError", "OutputValidationError"]


@pytest.mark.slow
def test_route_and_search_batches_keep_every_line(home: Path, tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "law.md").write_text("# Article 4\n\nThe landlord returns the deposit within 30 days.\n")
    assert main(["ingest", "-q", str(docs)]) == 0
    capsys.readouterr()
    batch = tmp_path / "tasks.jsonl"
    batch.write_text('{"text": "deposit return"}\n{"text": "   "}\n{"text": "landlord"}\n')
    for command in (["search", "-k", "1"], ["route"]):
        code = main([*command, "--input", str(batch)])
        good, bad, other = _lines(capsys)
        assert code == 1 and bad == {"error": {"type": "InputError", "message": bad["error"]["message"]}, "line": 2}
        assert "error" not in good and "error" not in other
    assert main(["search", "-k", "1", "--input", str(tmp_path / "docs")]) == 2  # a folder: nothing could run


def test_each_item_yields_a_failure_in_place_of_its_result() -> None:
    from skillstack.cli.common import each_item

    def answer(text: str) -> str:
        if text == "bad":
            raise InputError("bad item")
        return text.upper()

    results = list(each_item(answer, ["a", "bad", "c"]))
    assert results[0] == "A" and isinstance(results[1], InputError) and results[2] == "C"
