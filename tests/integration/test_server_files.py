"""OpenAI's Files API on `skillstack serve`, through the official `openai` SDK on a real loopback server.

A fine-tune upload is validated before it is accepted (the error names the line), oversized uploads
are 413, refused uploads leave nothing on disk, and hostile file ids never reach the filesystem.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.settings import load_settings
from skillstack.skills.server import ServerOptions, create_app
from skillstack.skills.server.auth import KeyRing

from server_fixtures import KEY, running

LINE = json.dumps({"messages": [{"role": "user", "content": "Where is my parcel?"},
                                {"role": "assistant", "content": "It ships today. Best, the Acme team"}]})
MAX_FILE_BYTES = 20_000


@pytest.fixture(scope="module")
def files_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files-home")


@pytest.fixture(scope="module")
def client(files_home: Path):
    from openai import OpenAI

    app = create_app(load_settings(files_home), keys=KeyRing.of([KEY]),
                     options=ServerOptions(max_file_bytes=MAX_FILE_BYTES))
    with running(app) as url:
        yield OpenAI(base_url=url, api_key=KEY, max_retries=0)


def _stored(home: Path) -> list[str]:
    folder = home / "files"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_files_workflow_of_the_fine_tuning_guide(client, tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text((LINE + "\n") * 10)
    created = client.files.create(file=train.open("rb"), purpose="fine-tune")
    assert created.id.startswith("file-") and created.bytes == train.stat().st_size
    assert created.filename == "train.jsonl" and created.purpose == "fine-tune" and created.status == "processed"
    assert client.files.retrieve(created.id).id == created.id
    assert created.id in [f.id for f in client.files.list(purpose="fine-tune")]
    assert created.id not in [f.id for f in client.files.list(purpose="batch")]
    assert client.files.content(created.id).read() == train.read_bytes()
    assert client.files.delete(created.id).deleted
    import openai

    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)


def test_a_broken_training_file_is_refused_naming_its_line_and_nothing_is_kept(client, files_home: Path,
                                                                            tmp_path: Path) -> None:
    import openai

    before = _stored(files_home)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(LINE + "\n" + LINE + "\n" + '{"messages": "not a list"}\n' + (LINE + "\n") * 8)
    with pytest.raises(openai.BadRequestError, match="line 3") as caught:
        client.files.create(file=broken.open("rb"), purpose="fine-tune")
    assert caught.value.body["param"] == "file"
    with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
        client.files.create(file=("notes.txt", b"hello"), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError, match="purpose"):
        client.files.create(file=("a.jsonl", LINE.encode()), purpose="wizardry")
    assert _stored(files_home) == before


def test_an_oversized_upload_is_413_and_leaves_nothing(client, files_home: Path) -> None:
    import openai

    before = _stored(files_home)
    for size in (MAX_FILE_BYTES + 1, MAX_FILE_BYTES + 200_000):  # past the file limit, then past the body limit
        with pytest.raises(openai.APIStatusError) as caught:
            client.files.create(file=("big.bin", b"x" * size), purpose="user_data")
        assert caught.value.status_code == 413
    assert _stored(files_home) == before


@pytest.mark.parametrize("hostile", ["api_keys", "file-..%2F..%2Fapi_keys", "%2E%2E%2Fapi_keys", "file-" + "0" * 24 + "%2F..",
                                     "file-" + "0" * 23 + "G"])
def test_hostile_file_ids_are_404_and_never_paths(client, hostile: str) -> None:
    import httpx

    # Raw HTTP: the SDK itself refuses some of these before sending, and a hostile client would not.
    headers = {"Authorization": f"Bearer {KEY}"}
    base = str(client.base_url).rstrip("/")
    for method, suffix in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        response = httpx.request(method, f"{base}/files/{hostile}{suffix}", headers=headers)
        assert response.status_code == 404, (method, suffix)
        assert "error" in response.json() and KEY not in response.text


def test_an_uploaded_filename_is_data_not_a_path(client, files_home: Path) -> None:
    created = client.files.create(file=("../../escape.jsonl", (LINE + "\n").encode()), purpose="user_data")
    assert created.filename == "escape.jsonl"
    assert not (files_home.parent / "escape.jsonl").exists()
    assert client.files.content(created.id).read() == (LINE + "\n").encode()
