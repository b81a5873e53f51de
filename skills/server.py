"""`skillstack serve`: the local skills behind an OpenAI-compatible HTTP API (like vLLM --enable-lora).

/v1/models lists "base" and every local (peft) skill; /v1/chat/completions answers with the named
skill, streaming (SSE) or not, honouring temperature, top_p, max_tokens, stop and response_format.
Handlers are sync, so concurrent requests run on FastAPI's thread pool and merge in the batcher.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from skillstack.errors import InputError, OutputValidationError, SkillError, SkillstackError
from skillstack.messages import content_text
from skillstack.settings import Settings
from .runtime import BASE, get_runtime


def _error(status: int, message: str, code: str) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"error": {"message": message, "type": "invalid_request_error",
                                                               "param": None, "code": code}})


def _model_for(settings: Settings, name: str) -> Any:
    """The chat model behind a request's `model`: a skill name, its provenance model_id, or 'base'."""
    runtime = get_runtime(settings)
    if name != BASE:
        skills = runtime.discovery().skills
        by_id = {s.manifest.provenance.get("model_id"): s.name for s in skills.values()}
        name = by_id.get(name, name)
        if name in skills and skills[name].manifest.backend != "peft":
            raise SkillError(f"skill '{name}' is not local (backend {skills[name].manifest.backend}); not served here")
    return runtime.chat_model(name)


def _call_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            kwargs[key] = float(body[key])
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        kwargs["max_tokens"] = int(limit)
    stop = body.get("stop")
    if stop is not None:
        kwargs["stop"] = [stop] if isinstance(stop, str) else list(stop)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        kwargs["json_schema"] = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    elif fmt.get("type") == "json_object":
        kwargs["json_schema"] = {"type": "object"}
    if body.get("n", 1) != 1:
        raise InputError("only n=1 is supported")
    return kwargs


def _completion(model_name: str, message: Any) -> dict[str, Any]:
    usage = message.usage_metadata or {}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model_name,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content_text(message.content)},
                     "finish_reason": message.response_metadata.get("finish_reason", "stop")}],
        "usage": {"prompt_tokens": usage.get("input_tokens", 0), "completion_tokens": usage.get("output_tokens", 0),
                  "total_tokens": usage.get("total_tokens", 0)},
    }


def _sse(model_name: str, chunks: Iterator[Any]) -> Iterator[str]:
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None) -> str:
        data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model_name,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(data)}\n\n"

    yield event({"role": "assistant", "content": ""}, None)
    for chunk in chunks:
        if text := content_text(chunk.content):
            yield event({"content": text}, None)
    yield event({}, "stop")
    yield "data: [DONE]\n\n"


def create_app(settings: Settings) -> Any:
    """The FastAPI app over settings' skills."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from langchain_core.messages import convert_to_messages

    app = FastAPI(title="skillstack", description="Local LoRA skills over the OpenAI chat-completions API")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        skills = get_runtime(settings).discovery(refresh=True).skills
        names = [BASE] + sorted(n for n, s in skills.items() if s.manifest.backend == "peft")
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "skillstack"}
                                           for n in names]}

    @app.post("/v1/chat/completions")
    def chat_completions(body: dict[str, Any]) -> Any:
        name = body.get("model")
        if not isinstance(name, str) or not isinstance(body.get("messages"), list):
            return _error(400, "'model' (string) and 'messages' (list) are required", "invalid_request")
        try:
            model = _model_for(settings, name)
            kwargs = _call_kwargs(body)
            messages = convert_to_messages(body["messages"])
            if body.get("stream"):
                return StreamingResponse(_sse(name, model.stream(messages, **kwargs)), media_type="text/event-stream")
            return _completion(name, model.invoke(messages, **kwargs))
        except SkillError as exc:
            return _error(404, str(exc), "model_not_found")
        except OutputValidationError as exc:
            return _error(422, str(exc), "output_validation_failed")
        except (SkillstackError, ValueError) as exc:
            return _error(400, str(exc), "invalid_request")

    return app


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the server until interrupted (the base model loads on the first request)."""
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
