"""The request-body guard, a pure ASGI middleware: a caller without the token (or a session) is
refused before any body is read, and a body over ``limit`` bytes gets 413 whether it comes with a
Content-Length or chunked (the bytes are counted as they arrive, so nothing past the limit is kept)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import authenticate


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _too_large(self) -> JSONResponse:
        return JSONResponse({"detail": f"request body over {self.limit} bytes"}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            # Who is calling, before a byte of the body is read (the route checks again, with the user).
            studio: Any = scope["app"].state.studio
            try:
                await asyncio.to_thread(authenticate, studio, headers, need_user=False)
            except HTTPException as denied:
                await JSONResponse({"detail": denied.detail}, status_code=denied.status_code)(scope, receive, send)
                return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._too_large()(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            # Past the limit: answer 413 now and tell the app the client has gone (it stops reading).
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await self._too_large()(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not refused:
                raise
