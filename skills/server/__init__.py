"""`skillstack serve`: the local skills behind an OpenAI-compatible HTTP API (like vLLM --enable-lora).

app.py builds the FastAPI app and runs it; schemas.py holds the typed bodies, errors.py OpenAI's
error shape, auth.py the API keys, chat.py and embeddings.py the two model-backed routes.
"""

from .app import ServerOptions, create_app, serve

__all__ = ["ServerOptions", "create_app", "serve"]
