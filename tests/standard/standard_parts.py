"""What LangChain's standard suites run on: one home, its store of the demo documents, and the local base model.

The suites build their subjects from class properties, where pytest fixtures cannot reach, so the
parts are made once per process here (the model and store are real; only the home is temporary).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def settings() -> Any:
    """Settings on a temporary home (removed at exit)."""
    from skillstack.settings import load_settings

    home = Path(tempfile.mkdtemp(prefix="skillstack-standard-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return load_settings(home)


@functools.cache
def store_settings() -> Any:
    """settings() with the shipped demo documents ingested into its store."""
    from skillstack.retrieval.ingest import ingest_paths

    ingest_paths(settings(), [REPO / "demo" / "docs"], progress=False)
    return settings()


def base_model_params(**overrides: Any) -> dict[str, Any]:
    """SkillChatModel constructor arguments for the local base model (its engine loads once per process)."""
    from skillstack.skills.runtime import chat_model

    model = chat_model(settings(), "base")
    return {"skill": model.skill, "backend": model.backend, "model": model.model, **overrides}
