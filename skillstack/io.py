"""Atomic writes: the one way skillstack puts a file or a folder on disk.

Every writer goes through a sibling temporary path that is renamed into place only once it is
complete, so a reader (or a process killed half-way) sees the old version or the new one, never half.
Not here: what is written (manifests, cards, indexes own their formats).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import sys
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
    """Put the complete folder `new` in place of `folder`; the old one is deleted afterwards.

    On Linux the two are exchanged in one atomic rename (renameat2 RENAME_EXCHANGE): a reader, or a process
    killed at any instant, finds the old folder or the new one there, never nothing. Elsewhere (or on a file
    system without the exchange) it is two renames, folder -> old and new -> folder, with the folder briefly
    absent in between. With keep_existing an existing folder wins and `new` is deleted.
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
    if _exchange(new, folder):
        remove_folder(new)  # `new` now holds the previous version
        return
    old = _sibling(folder, "old")
    folder.rename(old)
    try:
        new.rename(folder)
    except BaseException:
        old.rename(folder)  # put the previous version back rather than leave nothing
        raise
    shutil.rmtree(old, ignore_errors=True)


def remove_folder(folder: Path) -> None:
    """Delete a folder as a unit: renamed to a hidden sibling first, so a kill mid-delete leaves it whole or gone
    (at worst a hidden leftover that listings skip), never half-deleted under its own name."""
    folder = Path(folder)
    if not folder.exists():
        return
    doomed = _sibling(folder, "old")
    folder.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux renameat2); False where the platform or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # glibc before 2.28, musl
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))
