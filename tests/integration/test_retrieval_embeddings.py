"""The ONNX embedding backend: exported once into the cache, same vectors as torch to within int8 noise."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_onnx_backend_exports_once_and_matches_torch_vectors(shared_settings):
    from skillstack.retrieval.embeddings import export_onnx, get_embedder
    from skillstack.settings import with_overrides

    texts = ["Article 33 \u2014 Notification of a personal data breach to the supervisory authority",
             "A deposit shall not exceed the equivalent of four weeks' rent.", "short"]
    onnx = get_embedder(with_overrides(shared_settings, embedding_backend="onnx"))
    torch = get_embedder(shared_settings)
    a, b = onnx.embed(texts, batch_size=2), torch.embed(texts)
    assert a.shape == b.shape == (3, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.98
    folder = export_onnx(shared_settings)
    stamp = (folder / "model.int8.onnx").stat().st_mtime_ns
    assert export_onnx(shared_settings) == folder and (folder / "model.int8.onnx").stat().st_mtime_ns == stamp


def test_unknown_backend_is_a_config_error(shared_settings):
    from skillstack.errors import ConfigError
    from skillstack.retrieval.embeddings import get_embedder
    from skillstack.settings import with_overrides

    with pytest.raises(ConfigError, match="embedding_backend"):
        get_embedder(with_overrides(shared_settings, embedding_backend="tpu"))


@pytest.mark.parametrize("backend", ["torch", "onnx"])
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
