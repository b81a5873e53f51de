"""The Playground page of `skillstack serve`: plain HTML, JS and CSS from the package's static/ folder.

The page itself is served without a key and holds no secret: the user pastes an API key into it,
the browser keeps it in sessionStorage (gone with the tab) and sends it as `Authorization: Bearer`
on every `/v1/...` call, so every route the page uses stays behind the same key check as the SDK's.
A Content-Security-Policy keeps the page to its own origin: no script, style or connection elsewhere.
Not here: the API the page calls (app.py and the route modules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"
PAGE_PATH = "/playground"
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def install_playground(app: Any) -> None:
    """GET / (a redirect), GET /playground (the page) and /playground/static/* (its script and style).

    Plain Starlette routes, not API routes: they take no body, need no key and stay out of /openapi.json."""
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    def root(_request: Any) -> RedirectResponse:
        return RedirectResponse(PAGE_PATH)

    def page(_request: Any) -> FileResponse:
        return FileResponse(STATIC / "playground.html", media_type="text/html", headers=_HEADERS)

    app.add_route("/", root, methods=["GET"], include_in_schema=False)
    app.add_route(PAGE_PATH, page, methods=["GET"], include_in_schema=False)
    app.mount(f"{PAGE_PATH}/static", StaticFiles(directory=STATIC), name="playground-static")
