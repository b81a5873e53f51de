"""The ONNX embedding backends: exported once into the cache; float32 gives torch's vectors, int8 agrees closely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow
QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "gdpr_questions.jsonl"  # the tuning set

TEXTS = ["Article 33 \u2014 Notification of a personal data breach to the supervisory authority",
         "A deposit shall not exceed the equivalent of four weeks' rent.", "short",
         "The controller shall, without undue delay and, where feasible, not later than 72 hours after having "
         "become aware of it, notify the personal data breach to the supervisory authority competent in accordance "
         "with Article 55, unless the personal data breach is unlikely to result in a risk to the rights and freedoms."]


def test_onnx_float32_backend_gives_the_torch_vectors_in_input_order(shared_settings):
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.settings import with_overrides

    onnx = get_embedder(with_overrides(shared_settings, embedding_backend="onnx"))
    torch = get_embedder(shared_settings)
    a, b = onnx.embed(TEXTS, batch_size=2), torch.embed(TEXTS)  # batches sorted by length, rows back in order
    assert a.shape == b.shape == (4, 384) and a.dtype == np.float32
    assert np.abs(a - b).max() < 1e-4


def test_onnx_single_text_path_matches_the_batch_path(shared_settings):
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.settings import with_overrides

    onnx = get_embedder(with_overrides(shared_settings, embedding_backend="onnx"))
    single = np.stack([onnx.embed([text])[0] for text in TEXTS])
    assert np.abs(single - onnx.embed(TEXTS)).max() < 1e-5


def test_onnx_int8_backend_agrees_with_torch_and_exports_once(shared_settings):
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.retrieval.onnx_embedder import export_onnx
    from skillstack.settings import with_overrides

    a = get_embedder(with_overrides(shared_settings, embedding_backend="onnx-int8")).embed(TEXTS)
    b = get_embedder(shared_settings).embed(TEXTS)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.97
    folder = export_onnx(shared_settings)
    stamps = [(folder / name).stat().st_mtime_ns for name in ("model.onnx", "model.int8.onnx")]
    assert export_onnx(shared_settings) == folder
    assert [(folder / name).stat().st_mtime_ns for name in ("model.onnx", "model.int8.onnx")] == stamps


def test_onnx_float32_ranks_gdpr_articles_as_torch_does(shared_settings, gdpr_dir):
    """Recall equality without a store: every tuning question's top 5 among real GDPR chunks is the same."""
    from skillstack.retrieval.chunking import chunk_text
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.retrieval.loaders import load_document
    from skillstack.settings import with_overrides

    document = load_document(gdpr_dir / "gdpr_eurlex.html")
    texts = [chunk.text for chunk in chunk_text(document.text, source="gdpr")[100:148]]  # Articles, not recitals
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    top5 = []
    for embedder in (get_embedder(shared_settings), get_embedder(with_overrides(shared_settings, embedding_backend="onnx"))):
        scores = embedder.embed(questions) @ embedder.embed(texts).T
        top5.append([list(row) for row in np.argsort(-scores, axis=1)[:, :5]])
    assert top5[0] == top5[1]


def test_unknown_backend_is_a_config_error(shared_settings):
    from skillstack.errors import ConfigError
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.settings import with_overrides

    with pytest.raises(ConfigError, match="embedding_backend"):
        get_embedder(with_overrides(shared_settings, embedding_backend="tpu"))


@pytest.mark.parametrize("backend", ["torch", "onnx", "onnx-int8"])
def test_cosine_grader_uses_the_configured_embedding_backend(shared_settings, backend):
    from skillstack.settings import with_overrides
    from skillstack.training.graders import build_grader

    settings = with_overrides(shared_settings, embedding_backend=backend)
    spec = {"type": "text_similarity", "name": "cos", "input": "{{sample.output_text}}",
            "reference": "{{item.reference}}", "evaluation_metric": "cosine"}
    grader = build_grader(spec, settings=settings)
    same = grader.grade({"output_text": "The tenant must get the deposit back."}, {"reference": "The tenant must get the deposit back."})
    other = grader.grade({"output_text": "Quarterly revenue grew in Asia."}, {"reference": "The tenant must get the deposit back."})
    assert same == pytest.approx(1.0, abs=0.02) and other < 0.5
