"""The Studio's FastAPI application: the run store attached once for the process, the event hub
on parley's event stream, the runner (runs resumed at startup), the routes, security headers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, StrictStr

from .. import __version__
from ..store import RunNotFoundError, RunStore
from . import model_configs, runs, teams, ui, users
from .auth import SESSION_COOKIE, TokenHolder
from .body_limit import BodyLimit
from .event_feed import EventHub
from .runner import Runner
from .settings import StudioSettings

MAX_BODY_BYTES = 4 * 1024 * 1024  # a spec, an answer: far less; larger bodies are refused unread


@dataclass
class Studio:
    settings: StudioSettings
    store: RunStore
    hub: EventHub
    runner: Runner


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr
    password: StrictStr


def create_app(settings: StudioSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = RunStore(settings.store)
        store.attach()
        hub = EventHub()
        hub.attach(asyncio.get_running_loop())
        runner = Runner(store, settings, hub)
        app.state.studio = Studio(settings, store, hub, runner)
        resumed = await runner.resume_active()
        runner.start_tending()
        if resumed:
            print(f"parley studio: resumed {len(resumed)} run(s): {', '.join(resumed)}", flush=True)
        print(f"parley studio: open {settings.url()}", flush=True)
        try:
            yield
        finally:
            await runner.shutdown()
            hub.detach()
            await asyncio.to_thread(store.close)

    failures = users.LoginFailures()
    app = FastAPI(title="parley Studio", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # the token is never sent on in a Referer
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)  # outermost: before anything reads the body

    @app.exception_handler(RunNotFoundError)
    async def run_not_found(request: Request, error: RunNotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.get("/api/health")
    def health(request: Request, who: TokenHolder) -> dict:
        studio = request.app.state.studio
        return {"ok": True, "version": __version__, "accounts": who.accounts, "live_runs": len(studio.runner.tasks),
                "python": sys.version.split()[0]}

    @app.get("/api/me")
    def me(who: TokenHolder) -> dict:
        return {"user": who.user, "accounts": who.accounts}

    @app.post("/api/login")
    def login(body: Login, request: Request, who: TokenHolder) -> Response:
        if failures.blocked(body.name):
            raise HTTPException(429, f"too many failed logins for {body.name!r}: try again in a few minutes")
        token = users.login(request.app.state.studio.store.engine, body.name, body.password)
        if token is None:
            failures.failed(body.name)
            raise HTTPException(401, "wrong user name or password")
        failures.clear(body.name)
        response = JSONResponse({"user": body.name, "session": token})
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                            max_age=users.SESSION_TTL_S, secure=request.url.scheme == "https")
        return response

    @app.post("/api/logout")
    def logout(request: Request, who: TokenHolder) -> Response:
        session = request.cookies.get(SESSION_COOKIE) or request.headers.get("authorization", "").partition(" ")[2].strip()
        if session:
            users.logout(request.app.state.studio.store.engine, session)
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(who: TokenHolder) -> dict:
        return app.openapi()

    @app.get("/api/docs", include_in_schema=False)
    def docs(who: TokenHolder) -> Response:
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="parley Studio API")

    app.include_router(teams.router)
    app.include_router(model_configs.router)
    app.include_router(runs.router)
    app.include_router(ui.router)  # last: its catch-all serves the UI's own routes
    return app
