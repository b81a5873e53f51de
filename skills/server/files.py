"""OpenAI's Files API on the server: uploads kept in HOME/files, validated before they are accepted.

`POST /v1/files` (multipart `file` + `purpose`) copies the upload in chunks into a temporary sibling,
stops at the size limit, validates a `fine-tune` upload with the project's dataset validator (the
first bad line named in OpenAI's error shape), and only then renames it into place and writes its
record, so a refused or interrupted upload leaves nothing behind. A file id is checked against its
pattern before it names anything on disk; the uploaded filename is kept as data, never as a path.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from skillstack.io import atomic_write_bytes, atomic_write_json, atomic_writer
from skillstack.settings import Settings
from .errors import APIError

PURPOSES = ("fine-tune", "batch", "user_data", "assistants", "vision", "evals")
_ID = re.compile(r"^file-[0-9a-f]{24}$")
_CHUNK = 1024 * 1024


class FileObject(BaseModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: Literal["processed"] = "processed"
    status_details: str | None = None
    expires_at: int | None = None


class FileList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FileObject]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class FileDeleted(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool


class FileStore:
    """HOME/files: `<id>` holds an upload's bytes, `<id>.json` its record (written last, so listed last)."""

    def __init__(self, settings: Settings, *, max_bytes: int) -> None:
        self.folder = settings.home / "files"
        self.max_bytes = max_bytes

    def _path(self, file_id: str) -> Path:
        if not _ID.match(file_id):
            raise APIError(404, f"No such File object: {file_id[:80]}", param="file_id", code="file_not_found")
        return self.folder / file_id

    def get(self, file_id: str) -> FileObject:
        record = self._path(file_id).with_suffix(".json")
        if not record.exists():
            raise APIError(404, f"No such File object: {file_id}", param="file_id", code="file_not_found")
        return FileObject.model_validate(json.loads(record.read_text(encoding="utf-8")))

    def content(self, file_id: str) -> Path:
        self.get(file_id)
        return self._path(file_id)

    def list(self, *, purpose: str | None, limit: int, after: str | None, order: str) -> FileList:
        records = sorted((FileObject.model_validate(json.loads(p.read_text(encoding="utf-8")))
                          for p in self.folder.glob("file-*.json")), key=lambda f: (f.created_at, f.id),
                         reverse=order == "desc")
        records = [f for f in records if purpose is None or f.purpose == purpose]
        if after is not None:
            ids = [f.id for f in records]
            records = records[ids.index(after) + 1:] if after in ids else []
        page = records[:limit]
        return FileList(data=page, has_more=len(records) > limit, first_id=page[0].id if page else None,
                        last_id=page[-1].id if page else None)

    def delete(self, file_id: str) -> FileDeleted:
        self.get(file_id)
        path = self._path(file_id)
        path.with_suffix(".json").unlink()  # the record first: a half-deleted file is no longer listed
        path.unlink(missing_ok=True)
        return FileDeleted(id=file_id, deleted=True)

    def create(self, upload: Any, purpose: str) -> FileObject:
        """Copy upload (a starlette UploadFile) in, checked; nothing is kept when any check fails."""
        if purpose not in PURPOSES:
            raise APIError(400, f"Invalid purpose '{purpose[:40]}'; use one of: {', '.join(PURPOSES)}.",
                           param="purpose", code="invalid_value")
        filename = Path(upload.filename or "upload").name[:255]
        if purpose == "fine-tune" and not filename.endswith(".jsonl"):
            raise APIError(400, "Invalid file format for Fine-Tuning API. Must be .jsonl", param="file",
                           code="invalid_file_format")
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        path = self._path(file_id)
        size = 0
        with atomic_writer(path, "wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise APIError(413, f"File too large: the limit is {self.max_bytes} bytes.", param="file",
                                   code="file_too_large")
                out.write(chunk)
            out.flush()
            if purpose == "fine-tune":
                _check_training_file(Path(out.name), filename)
        return self._record(file_id, size, filename, purpose)

    def add(self, filename: str, data: bytes, purpose: str) -> FileObject:
        """A file the server made itself (a job's `fine-tune-results` CSV), stored like an upload."""
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        atomic_write_bytes(self._path(file_id), data)
        return self._record(file_id, len(data), filename, purpose)

    def _record(self, file_id: str, size: int, filename: str, purpose: str) -> FileObject:
        """Written last: a file is listed only once its bytes are in place."""
        record = FileObject(id=file_id, bytes=size, created_at=int(time.time()), filename=filename, purpose=purpose)
        atomic_write_json(self._path(file_id).with_suffix(".json"), record.model_dump())
        return record


def _check_training_file(path: Path, filename: str) -> None:
    """The dataset validator's verdict, as OpenAI words a refused training file (the example count is the job's
    business: OpenAI checks it when a job is created, not at upload)."""
    from skillstack.training.data.validate import validate_file

    report = validate_file(path)
    blocking = [f for f in report.errors if f.code != "too_few_examples"]
    if blocking:
        first = blocking[0]
        raise APIError(400, f"Invalid file '{filename}' for fine-tuning: {len(blocking)} problem(s); first at line "
                            f"{first.line}: {first.code}: {first.message}", param="file", code="invalid_file")
