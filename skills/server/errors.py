"""OpenAI's error shape for every failure the server answers, and the handlers that produce it.

Every error body is `{"error": {"message", "type", "param", "code"}}` with the status code the
`openai` SDK maps to its exception classes (400 BadRequestError, 401 AuthenticationError, 404
NotFoundError, 413, 422 UnprocessableEntityError, 429 RateLimitError). Raise `APIError` from any
route (files and fine-tuning routes too); `install_error_handlers` turns validation errors, unknown
routes, skillstack's own errors and oversized bodies into it. Anything else is a bug: logged with
its traceback (never headers, so never a key) and answered with a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

from skillstack.errors import OutputValidationError, SkillError, SkillstackError

log = logging.getLogger("skillstack.server")

# What each status code is called in OpenAI's `type` field.
_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
          405: "invalid_request_error", 409: "invalid_request_error", 413: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error", 500: "server_error", 503: "server_error"}


_BRANCHES = {"str", "int", "float", "bool", "function-after", "constrained-int", "constrained-float", "constrained-str"}


class APIError(Exception):
    """A request the server refuses, answered in OpenAI's error shape."""

    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.type = type or _TYPES.get(status, "invalid_request_error")
        self.headers = headers


def error_body(message: str, *, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(error: APIError) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=error.status, headers=error.headers,
                        content=error_body(error.message, type=error.type, param=error.param, code=error.code))


def from_skillstack(exc: SkillstackError) -> APIError:
    """skillstack's own errors: an unknown or unservable skill is a 404, an answer that broke its schema a 422."""
    if isinstance(exc, SkillError):
        return APIError(404, str(exc), code="model_not_found", param="model")
    if isinstance(exc, OutputValidationError):
        return APIError(422, str(exc), code="output_validation_failed")
    return APIError(400, str(exc), code="invalid_request")


def _validation_error(errors: list[dict[str, Any]]) -> APIError:
    """The first pydantic error as one line naming the parameter, as OpenAI reports a bad parameter."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request body", "type": "value_error"}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    # A union's branch name (e.g. "str", "list[str]", "constrained-int") is pydantic's, not the parameter's.
    param = ".".join(p for p in loc if not any(c in p for c in "[]") and p not in _BRANCHES)
    kind = first.get("type", "")
    if kind == "missing":
        message, code = f"Missing required parameter: '{param}'.", "missing_required_parameter"
    elif kind == "extra_forbidden":
        message, code = f"Unrecognized request argument supplied: {param}", "unknown_parameter"
    elif kind == "json_invalid":
        message, code, param = "The request body is not valid JSON.", "invalid_json", ""
    else:
        message, code = f"Invalid value for '{param or 'body'}': {first.get('msg', 'invalid value')}.", "invalid_value"
    return APIError(400, message, code=code, param=param or None)


def install_error_handlers(app: Any) -> None:
    """OpenAI-shaped answers for every failure the app can meet."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(APIError)
    async def api_error(_request: Any, exc: APIError) -> Any:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(_request: Any, exc: RequestValidationError) -> Any:
        return error_response(_validation_error(list(exc.errors())))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Any, exc: HTTPException) -> Any:
        message = {404: "Unknown request URL.", 405: "Method not allowed for this URL."}.get(exc.status_code,
                                                                                            str(exc.detail))
        return error_response(APIError(exc.status_code, message, code="unknown_url" if exc.status_code == 404 else None))

    @app.exception_handler(SkillstackError)
    async def skillstack_error(_request: Any, exc: SkillstackError) -> Any:
        return error_response(from_skillstack(exc))

    @app.exception_handler(Exception)
    async def bug(request: Any, exc: Exception) -> Any:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(APIError(500, "The server had an error while processing your request.",
                                       code="internal_error"))


class BodyLimit:
    """ASGI middleware: a request body over its limit is refused with 413 before it is read whole.

    Uploads (paths in upload_limits, e.g. POST /v1/files) get their own, larger limit."""

    def __init__(self, app: Any, *, max_bytes: int, upload_limits: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.upload_limits = app, max_bytes, upload_limits or {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limits.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # a chunked body that lied by omission
                raise APIError(413, self._message(limit), code="request_too_large")
            return message

        await self.app(scope, counted, send)

    @staticmethod
    def _message(limit: int) -> str:
        return f"Request body too large: the limit is {limit} bytes."

    async def _refuse(self, send: Any, limit: int) -> None:
        import json

        body = json.dumps(error_body(self._message(limit), type=_TYPES[413], code="request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def stream_error_event(exc: Exception, model: str) -> str:
    """A server-sent event carrying exc in OpenAI's error shape: headers are sent, so a stream fails in-band.
    skillstack's own errors say what went wrong; anything else is logged and reported as a server error."""
    import json

    if isinstance(exc, SkillstackError):
        error = from_skillstack(exc)
        return f"data: {json.dumps(error_body(error.message, type=error.type, param=error.param, code=error.code))}\n\n"
    log.error("internal error while streaming %s", model, exc_info=exc)
    return f"data: {json.dumps(error_body('The server had an error while streaming.', type='server_error'))}\n\n"
