"""The demo's own documents and tasks, shipped as package data so `skillstack demo` works from a wheel.

`demo_path("docs")` and `demo_path("tasks.jsonl")` are real paths (an installed wheel is a folder on disk).
Nothing else lives here: the demo command is skillstack/cli/cmd_graph.py.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def demo_path(name: str) -> Path:
    """Path of a shipped demo file or folder: "docs" or "tasks.jsonl"."""
    return Path(str(files(__name__) / name))
