"""The built UI (``static/``: index.html and its assets, built from studio-ui/ by Vite and shipped
in the wheel) and the token handshake: opening ``/?token=T`` serves index.html (401 for a wrong token); the page
keeps the token in sessionStorage, takes it out of the address bar and sends it as a Bearer header
(no cookie: cookies go to every port on the host). Without a built UI, ``/`` says so."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

STATIC = Path(__file__).parent / "static"
router = APIRouter()

_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>parley Studio</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>parley Studio</h1>
<p>The server is running, but its browser UI is not built in this installation
(<code>parley/studio/static/index.html</code> is missing). Build it with <code>npm ci && npm run build</code>
in <code>studio-ui/</code>, or use the API (its schema: <code>/api/openapi.json</code>, with the token).</p>
</body></html>"""

_BAD_TOKEN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>parley Studio</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto"><h1>parley Studio</h1>
<p>This access token is not the server's. Open the URL <code>parley studio</code> printed when it started.</p>
</body></html>"""


def _index() -> Response:
    index = STATIC / "index.html"
    if index.is_file():
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})
    return HTMLResponse(_NOT_BUILT)


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    token = request.query_params.get("token")
    if token is None:
        return _index()
    if not hmac.compare_digest(token.encode(), request.app.state.studio.settings.token.encode()):
        return HTMLResponse(_BAD_TOKEN, status_code=401)
    return _index()


@router.get("/{path:path}", include_in_schema=False)
def asset(path: str) -> Response:
    """A built file (assets/…, favicon), else index.html: the UI's own routes (/runs/…) load the app."""
    if path.startswith("api/") or path == "api":
        return Response(status_code=404)
    root = STATIC.resolve()
    target = (STATIC / path).resolve()
    if target.is_file() and target.is_relative_to(root):
        return FileResponse(target, headers={"Cache-Control": "public, max-age=31536000, immutable"}
                            if path.startswith("assets/") else None)
    return _index()
