"""Atomic writes: the one way skillstack puts a file or a folder on disk.

Every writer goes through a sibling temporary path that is renamed into place only once it is
complete, so a reader (or a process killed half-way) sees the old version or the new one, never half.
Not here: what is written (manifests, cards, indexes own their formats).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _sibling(path: Path, tag: str) -> Path:
    # Hidden, unique names: two writers (processes, threads, nested calls) never share one, and listings skip them.
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_writer(path: Path, mode: str = "w", *, encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary sibling of path for writing; on a clean exit it replaces path, on an error it vanishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    handle = open(tmp, mode, encoding=None if "b" in mode else encoding)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> Path:
    """Write text (UTF-8) to path atomically; returns path."""
    with atomic_writer(path) as handle:
        handle.write(text)
    return Path(path)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write bytes to path atomically; returns path."""
    with atomic_writer(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_json(path: Path, value: Any, *, indent: int | None = 2) -> Path:
    """Write value as JSON (UTF-8, non-ASCII kept) to path atomically; returns path."""
    return atomic_write_text(path, json.dumps(value, indent=indent, ensure_ascii=False) + "\n")


@contextmanager
def atomic_folder(folder: Path, *, keep_existing: bool = False) -> Iterator[Path]:
    """Yield an empty temporary sibling folder; on a clean exit it takes folder's place, on an error it is removed.

    keep_existing is for caches (a converted model, an export): when folder already exists at the end, another
    writer finished the same work first, and its copy is kept (a reader may be using it) while ours is dropped.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(folder, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        replace_folder(tmp, folder, keep_existing=keep_existing)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(new: Path, folder: Path, *, keep_existing: bool = False) -> None:
    """Put the complete folder `new` in place of `folder` with renames only; the old one is deleted afterwards.

    The swap is two renames (folder -> old, new -> folder): between them the folder is briefly absent,
    never half-written; readers that must never see it absent retry once. With keep_existing an existing
    folder wins and `new` is deleted.
    """
    if not folder.exists():
        try:
            new.rename(folder)
            return
        except OSError:
            if not folder.exists():
                raise
            # another writer put its folder there meanwhile: treat it like any existing folder
    if keep_existing:
        shutil.rmtree(new, ignore_errors=True)
        return
    old = _sibling(folder, "old")
    folder.rename(old)
    try:
        new.rename(folder)
    except BaseException:
        old.rename(folder)  # put the previous version back rather than leave nothing
        raise
    shutil.rmtree(old, ignore_errors=True)
