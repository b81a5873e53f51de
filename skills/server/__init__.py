"""`skillstack serve`: the local skills behind an OpenAI-compatible HTTP API (like vLLM --enable-lora).

app.py builds the FastAPI app and runs it, options.py holds its bounds; schemas.py holds the typed bodies, errors.py OpenAI's
error shape, auth.py the API keys, chat.py and embeddings.py the model-backed routes, files.py the Files API.
"""

from .app import create_app, serve
from .options import ServerOptions

__all__ = ["ServerOptions", "create_app", "serve"]
