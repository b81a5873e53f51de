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
