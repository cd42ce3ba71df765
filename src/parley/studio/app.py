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
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .. import __version__
from ..store import RunNotFoundError, RunStore
from . import model_configs, runs, teams, ui, users
from .auth import TokenHolder
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

    # Checked before any lookup: a name that can't exist is refused (422 naming the field), not kept.
    name: StrictStr = Field(max_length=64, pattern=users.NAME_PATTERN)
    password: StrictStr = Field(max_length=1024)


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

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # Where and what, never the input itself (a password, a 3 MiB name) echoed back.
        return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                                        for e in error.errors()]}, status_code=422)

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
        key = (body.name, request.client.host if request.client else "")
        if failures.blocked(key):
            raise HTTPException(429, f"too many failed logins for {body.name!r} from this address: try again in a few minutes")
        token = users.login(request.app.state.studio.store.engine, body.name, body.password, settings.token)
        if token is None:
            failures.failed(key)
            raise HTTPException(401, "wrong user name or password")
        failures.clear(key)
        return JSONResponse({"user": body.name, "session": token})  # the UI sends it as Bearer: no cookie

    @app.post("/api/logout")
    def logout(request: Request, who: TokenHolder) -> Response:
        session = request.headers.get("authorization", "").partition(" ")[2].strip()
        if session:
            users.logout(request.app.state.studio.store.engine, session, settings.token)
        return JSONResponse({"ok": True})

    # The schema only: no Swagger/ReDoc page, which would run a CDN's scripts inside the Studio's origin.
    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(who: TokenHolder) -> dict:
        return app.openapi()

    app.include_router(teams.router)
    app.include_router(model_configs.router)
    app.include_router(runs.router)
    app.include_router(ui.router)  # last: its catch-all serves the UI's own routes
    return app
