"""Shared fixtures: an isolated SKILLSTACK_HOME per test, one model cache for the whole run.

The model cache (the embedded GGUF converted to safetensors, ONNX exports) lives in
.skillstack-test/cache inside the checkout, so only the first run pays for conversion.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The real corpora: the Makefile passes ../shared/corpora as SKILLSTACK_CORPORA; tests needing them skip without.
SHARED_CORPORA = Path(os.environ.get("SKILLSTACK_CORPORA") or REPO.parent / "shared" / "corpora")
TEST_CACHE = REPO / ".skillstack-test" / "cache"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["SKILLSTACK_CACHE"] = str(TEST_CACHE)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty skillstack home, also exported as $SKILLSTACK_HOME for subprocesses."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("SKILLSTACK_HOME", str(path))
    return path


@pytest.fixture
def settings(home: Path):
    from skillstack.settings import load_settings

    return load_settings(home)


@pytest.fixture(scope="session")
def shared_settings(tmp_path_factory: pytest.TempPathFactory):
    """Settings on one home for the whole session, for tests that only read models."""
    from skillstack.settings import load_settings

    return load_settings(tmp_path_factory.mktemp("shared-home"))


@pytest.fixture(scope="session")
def gdpr_dir() -> Path:
    path = SHARED_CORPORA / "gdpr"
    if not (path / "gdpr_eurlex.html").exists():
        pytest.skip("../shared/corpora/gdpr is not beside the checkout")
    return path


@pytest.fixture(scope="session")
def support_csv() -> Path:
    path = SHARED_CORPORA / "customer-support" / "bitext_customer_support.csv"
    if not path.exists():
        pytest.skip("../shared/corpora/customer-support is not beside the checkout")
    return path
