"""Who is calling: the access token or a login session (when accounts exist), sent as
``Authorization: Bearer …``, or on a WebSocket as the subprotocol ``parley-auth.<base64url>`` next
to ``parley-studio`` (browsers can't set headers on a WebSocket). No credential is kept in a
cookie: cookies are scoped by host, not port, so a browser would hand them to every other service
on 127.0.0.1. The Origin check keeps a web page in the same browser from driving a local Studio.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, WebSocket

from . import users
from .settings import StudioSettings, is_loopback

WS_PROTOCOL = "parley-studio"
"""The WebSocket subprotocol the server selects (echoed; the credential's protocol never is)."""
WS_AUTH_PREFIX = "parley-auth."


@dataclass(frozen=True)
class Principal:
    """The caller: ``user`` is None when the Studio has no accounts (the token's holder owns all)."""

    user: str | None
    accounts: bool


def _bearer(headers: Any) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, credential = value.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def _subprotocol_credential(headers: Any) -> str | None:
    """The credential a browser WebSocket offers as ``parley-auth.<base64url, unpadded>``."""
    for offered in (headers.get("sec-websocket-protocol") or "").split(","):
        offered = offered.strip()
        if offered.startswith(WS_AUTH_PREFIX):
            encoded = offered[len(WS_AUTH_PREFIX):]
            try:
                return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode() or None
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
    return None


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


def authenticate(studio: Any, headers: Any, *, need_user: bool = True, websocket: bool = False) -> Principal:
    """The caller, or HTTPException 401 (403 for a refused Origin)."""
    settings: StudioSettings = studio.settings
    if not origin_allowed(settings, headers.get("origin"), headers.get("host")):
        raise HTTPException(403, "this origin may not use the Studio")
    bearer = _bearer(headers) or (_subprotocol_credential(headers) if websocket else None)
    token_ok = bearer is not None and hmac.compare_digest(bearer.encode(), settings.token.encode())
    engine = studio.store.engine
    accounts = users.accounts_exist(engine)
    if not accounts:
        if token_ok:
            return Principal(None, False)
        raise HTTPException(401, "the Studio's access token is needed: open the URL parley studio printed, "
                                 "or send Authorization: Bearer TOKEN")
    if bearer and not token_ok:
        user = users.session_user(engine, bearer, settings.token)
        if user is not None:
            return Principal(user, True)
    if token_ok and not need_user:
        return Principal(None, True)
    raise HTTPException(401, "log in: this Studio has accounts (POST /api/login)" if token_ok else
                        "the Studio's access token is needed: open the URL parley studio printed")


def principal(request: Request) -> Principal:
    """FastAPI dependency: every API route but health and login (run in the thread pool: it reads the store)."""
    return authenticate(request.app.state.studio, request.headers)


def token_holder(request: Request) -> Principal:
    """FastAPI dependency: the token (or a session) without a user (login, health, /api/me)."""
    return authenticate(request.app.state.studio, request.headers, need_user=False)


def websocket_principal(websocket: WebSocket) -> Principal:
    return authenticate(websocket.app.state.studio, websocket.headers, websocket=True)


def websocket_subprotocol(websocket: WebSocket) -> str | None:
    """The protocol to accept with: ``parley-studio`` when the client offered it (a browser that
    offers protocols fails the handshake unless one is selected), else none."""
    offered = [p.strip() for p in (websocket.headers.get("sec-websocket-protocol") or "").split(",")]
    return WS_PROTOCOL if WS_PROTOCOL in offered else None


Caller = Annotated[Principal, Depends(principal)]
"""A route parameter: the authenticated caller (a user when the Studio has accounts)."""
TokenHolder = Annotated[Principal, Depends(token_holder)]
"""A route parameter: the token's holder, logged in or not."""


def _studio(request: Request) -> Any:
    return request.app.state.studio


StudioState = Annotated[Any, Depends(_studio)]
"""A route parameter: the Studio (settings, store, hub, runner)."""
