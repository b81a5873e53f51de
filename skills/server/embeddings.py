"""POST /v1/embeddings: the configured embedding model (the store's own) for OpenAI-speaking tools.

Vectors come from retrieval/embeddings.get_embedder, the one embedder cache, so a tool embedding
through the server gets exactly the vectors the knowledge store holds. `encoding_format` "base64"
(what the `openai` SDK asks for by default) is the little-endian float32 bytes, as OpenAI sends them.
"""

from __future__ import annotations

import base64
from typing import Any

from skillstack.retrieval.embeddings import embedding_model_name, get_embedder
from skillstack.settings import Settings
from .errors import APIError
from .schemas import EmbeddingList, EmbeddingRequest

MAX_INPUTS = 2048  # OpenAI's limit on inputs per request
MAX_INPUT_CHARACTERS = 32_000


def embed(settings: Settings, body: EmbeddingRequest) -> EmbeddingList:
    model_id = embedding_model_name(settings)
    if body.model != model_id:
        raise APIError(404, f"The model '{body.model}' does not exist; this server embeds with '{model_id}'.",
                       param="model", code="model_not_found")
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or len(texts) > MAX_INPUTS:
        raise APIError(400, f"'input' must hold 1 to {MAX_INPUTS} strings, got {len(texts)}.", param="input",
                       code="invalid_value")
    for index, text in enumerate(texts):
        if not text.strip():
            raise APIError(400, f"input[{index}] is empty.", param="input", code="invalid_value")
        if len(text) > MAX_INPUT_CHARACTERS:
            raise APIError(400, f"input[{index}] has {len(text)} characters; the limit is {MAX_INPUT_CHARACTERS}.",
                           param="input", code="invalid_value")
    embedder = get_embedder(settings)
    vectors = embedder.embed(texts)
    if body.dimensions is not None and body.dimensions != vectors.shape[1]:
        raise APIError(400, f"'{model_id}' has {vectors.shape[1]} dimensions and cannot give {body.dimensions}.",
                       param="dimensions", code="invalid_value")
    tokens = sum(embedder.count_tokens(texts))
    data: list[dict[str, Any]] = []
    for index, vector in enumerate(vectors):
        value: Any = (base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
                      if body.encoding_format == "base64" else vector.astype(float).tolist())
        data.append({"object": "embedding", "index": index, "embedding": value})
    return EmbeddingList.model_validate({"data": data, "model": model_id,
                                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
