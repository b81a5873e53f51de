"""Atomic writes: a failed write keeps the old version, folders swap whole, no temporary is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstack.io import atomic_folder, atomic_write_bytes, atomic_write_json, atomic_write_text, atomic_writer


class Boom(Exception):
    pass


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_written_file_replaces_the_old_one_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "notes.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new — ünïcode")
    assert target.read_text(encoding="utf-8") == "new — ünïcode"
    assert _names(target.parent) == ["notes.txt"]


def test_failing_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "data.jsonl", "kept\n")
    with pytest.raises(Boom), atomic_writer(target) as handle:
        handle.write("half a line")
        raise Boom
    assert target.read_text(encoding="utf-8") == "kept\n"
    assert _names(tmp_path) == ["data.jsonl"]


def test_failing_first_write_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(Boom), atomic_writer(tmp_path / "new.txt"):
        raise Boom
    assert _names(tmp_path) == []


def test_json_and_bytes_round_trip(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "card.json", {"name": "café", "n": [1, 2]})
    atomic_write_bytes(tmp_path / "blob.bin", b"\x00\xff")
    assert json.loads((tmp_path / "card.json").read_text(encoding="utf-8")) == {"name": "café", "n": [1, 2]}
    assert "café" in (tmp_path / "card.json").read_text(encoding="utf-8")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\xff"


def test_folder_swap_replaces_the_whole_folder(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    with atomic_folder(folder) as tmp:
        (tmp / "a.txt").write_text("1")
        (tmp / "stale.txt").write_text("x")
    with atomic_folder(folder) as tmp:
        assert _names(tmp) == []  # each write starts empty, not from the old folder
        (tmp / "a.txt").write_text("2")
    assert _names(folder) == ["a.txt"] and (folder / "a.txt").read_text() == "2"
    assert _names(tmp_path) == ["index"]


def test_failing_folder_write_keeps_the_old_folder_and_no_temporary(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    with atomic_folder(folder) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(Boom), atomic_folder(folder) as tmp:
        (tmp / "a.txt").write_text("half")
        raise Boom
    assert (folder / "a.txt").read_text() == "old"
    assert _names(tmp_path) == ["index"]


def test_keep_existing_keeps_the_folder_another_writer_finished_first(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    with atomic_folder(folder, keep_existing=True) as tmp:
        (tmp / "model.onnx").write_text("theirs")
        with atomic_folder(folder, keep_existing=True) as first:  # finishes while ours is still being written
            (first / "model.onnx").write_text("first")
    assert (folder / "model.onnx").read_text() == "first"
    assert _names(tmp_path) == ["export"]


DIE_AFTER_FIRST_MOVE = """
import os, pathlib, shutil, sys
from skillstack.io import atomic_folder

folder = pathlib.Path(sys.argv[1])
real_rename, real_rmtree = pathlib.Path.rename, shutil.rmtree

def rename_then_die(self, target):  # the process dies right after a rename moves the folder away
    result = real_rename(self, target)
    if self == folder:
        os._exit(137)
    return result

def delete_one_file_then_die(path, *args, **kwargs):  # the process dies half-way through a delete
    next(p for p in pathlib.Path(path).iterdir()).unlink()
    os._exit(137)

pathlib.Path.rename, shutil.rmtree = rename_then_die, delete_one_file_then_die
with atomic_folder(folder) as tmp:
    (tmp / "a").write_text("new")
    (tmp / "b").write_text("new")
"""


def test_a_process_killed_while_a_folder_is_swapped_leaves_the_old_or_the_new_folder_whole(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = tmp_path / "skill"
    with atomic_folder(folder) as tmp:
        (tmp / "a").write_text("old")
        (tmp / "b").write_text("old")
    subprocess.run([sys.executable, "-c", DIE_AFTER_FIRST_MOVE, str(folder)], env=os.environ, timeout=60)
    assert folder.is_dir(), "the folder is gone"
    contents = {p.name: p.read_text() for p in folder.iterdir()}
    assert contents in ({"a": "old", "b": "old"}, {"a": "new", "b": "new"}), contents
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["skill"]


def test_remove_folder_killed_mid_delete_leaves_nothing_half_deleted_under_its_name(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = tmp_path / "checkpoint-1"
    folder.mkdir()
    (folder / "adapter.safetensors").write_text("x")
    (folder / "state.pt").write_text("y")
    script = DIE_AFTER_FIRST_MOVE.split("pathlib.Path.rename, shutil.rmtree =")[0] + (
        "shutil.rmtree = delete_one_file_then_die\nfrom skillstack.io import remove_folder\nremove_folder(folder)\n")
    subprocess.run([sys.executable, "-c", script, str(folder)], env=os.environ, timeout=60)
    assert not folder.exists()  # gone as a unit; the half-deleted copy is a hidden sibling listings skip
    assert all(p.name.startswith(".") for p in tmp_path.iterdir())
