"""Who is calling: the access token (``Authorization: Bearer T`` or the cookie the ``/?token=``
handshake sets), a login session when accounts exist, and the Origin check that keeps a web page
in the same browser from driving a local Studio (cookies travel with its requests; Origin tells).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, WebSocket

from . import users
from .settings import StudioSettings, is_loopback

TOKEN_COOKIE = "parley_studio_token"
SESSION_COOKIE = "parley_studio_session"


@dataclass(frozen=True)
class Principal:
    """The caller: ``user`` is None when the Studio has no accounts (the token's holder owns all)."""

    user: str | None
    accounts: bool


def _bearer(headers: Any) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, credential = value.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def origin_allowed(settings: StudioSettings, origin: str | None, host_header: str | None) -> bool:
    """A request without Origin is not a browser page's (browsers send it on WebSockets and on
    cross-origin requests); one with it must come from the Studio's own origin."""
    if origin is None:
        return True
    if origin in settings.origins():
        return True
    # Bound to a public address: the page the Studio itself served, under the name it was reached by.
    if not is_loopback(settings.host) and host_header:
        return urlsplit(origin).netloc == host_header
    return False


def authenticate(studio: Any, headers: Any, cookies: Any, *, need_user: bool = True) -> Principal:
    """The caller, or HTTPException 401 (403 for a refused Origin)."""
    settings: StudioSettings = studio.settings
    if not origin_allowed(settings, headers.get("origin"), headers.get("host")):
        raise HTTPException(403, "this origin may not use the Studio")
    bearer = _bearer(headers)
    candidates = [value for value in (bearer, cookies.get(TOKEN_COOKIE)) if value]
    token_ok = any(hmac.compare_digest(value.encode(), settings.token.encode()) for value in candidates)
    engine = studio.store.engine
    accounts = users.accounts_exist(engine)
    if not accounts:
        if token_ok:
            return Principal(None, False)
        raise HTTPException(401, "the Studio's access token is needed: open the URL parley studio printed, "
                                 "or send Authorization: Bearer TOKEN")
    for value in (bearer, cookies.get(SESSION_COOKIE)):
        if value and not hmac.compare_digest(value.encode(), settings.token.encode()):
            user = users.session_user(engine, value)
            if user is not None:
                return Principal(user, True)
    if token_ok and not need_user:
        return Principal(None, True)
    raise HTTPException(401, "log in: this Studio has accounts (POST /api/login)" if token_ok else
                        "the Studio's access token is needed: open the URL parley studio printed")


def principal(request: Request) -> Principal:
    """FastAPI dependency: every API route but health and login (run in the thread pool: it reads the store)."""
    return authenticate(request.app.state.studio, request.headers, request.cookies)


def token_holder(request: Request) -> Principal:
    """FastAPI dependency: the token (or a session) without a user (login, health, /api/me)."""
    return authenticate(request.app.state.studio, request.headers, request.cookies, need_user=False)


def websocket_principal(websocket: WebSocket) -> Principal:
    return authenticate(websocket.app.state.studio, websocket.headers, websocket.cookies)


Caller = Annotated[Principal, Depends(principal)]
"""A route parameter: the authenticated caller (a user when the Studio has accounts)."""
TokenHolder = Annotated[Principal, Depends(token_holder)]
"""A route parameter: the token's holder, logged in or not."""


def _studio(request: Request) -> Any:
    return request.app.state.studio


StudioState = Annotated[Any, Depends(_studio)]
"""A route parameter: the Studio (settings, store, hub, runner)."""
