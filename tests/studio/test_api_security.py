"""Secure by default: no token → 401 on every API route and WebSocket; the token works as a
Bearer header (on a WebSocket also as the ``parley-auth.`` subprotocol), never as a cookie; a page
from another origin is refused; a non-loopback bind without a token does not start."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import ROOT, SRC, TOKEN, free_port, wait_status

ROUTES = [
    ("GET", "/api/health"), ("GET", "/api/me"), ("GET", "/api/gallery"), ("GET", "/api/models"), ("GET", "/api/teams"),
    ("POST", "/api/teams"), ("POST", "/api/teams/validate"), ("GET", "/api/teams/x"), ("PUT", "/api/teams/x"),
    ("DELETE", "/api/teams/x"), ("GET", "/api/runs"), ("POST", "/api/runs"), ("GET", "/api/runs/x"),
    ("POST", "/api/runs/x/input"), ("POST", "/api/runs/x/stop"), ("POST", "/api/runs/x/resume"),
    ("GET", "/api/runs/x/export"), ("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("POST", "/api/login"),
]


def test_every_route_needs_the_token(studio):
    server = studio()
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "hi", "model": "scripted"}).json()["id"]
        wait_status(client, run_id, "waiting_input")
    for token in (None, "wrong-token-0123456789", TOKEN + "x", TOKEN[:-1]):
        with server.client(token) as client:
            for method, path in [*ROUTES, ("GET", f"/api/runs/{run_id}"), ("POST", f"/api/runs/{run_id}/stop")]:
                response = client.request(method, path, json={"name": "a", "password": "b"} if method != "GET" else None)
                assert response.status_code == 401, (token, method, path, response.text)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with pytest.raises(InvalidStatus) as refused:
            connect(server.ws_url(run_id), additional_headers=headers, open_timeout=30).close()
        assert refused.value.response.status_code == 403
    with server.client() as client:  # the run was not touched
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "waiting_input"
        assert client.get("/api/openapi.json").json()["info"]["title"] == "parley Studio"
        # No Swagger/ReDoc page: it would load a CDN's scripts into the Studio's origin.
        for page in ("/api/docs", "/api/redoc"):
            assert client.get(page).status_code == 404


def subprotocols(credential: str) -> list:
    """What the UI offers on its WebSocket: the fixed protocol and the credential, base64url-encoded."""
    return ["parley-studio", "parley-auth." + base64.urlsafe_b64encode(credential.encode()).decode().rstrip("=")]


def test_the_token_handshake_sets_no_cookie_and_cookies_are_not_credentials(studio):
    server = studio()
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        assert browser.get("/api/runs").status_code == 401
        wrong = browser.get("/", params={"token": "not-the-token-0123456789"}, follow_redirects=False)
        assert wrong.status_code == 401
        opened = browser.get("/", params={"token": TOKEN}, follow_redirects=False)
        # The page itself takes the token (sessionStorage): no redirect, no cookie for other ports to get.
        assert opened.status_code == 200 and "<html" in opened.text.lower()
        assert "set-cookie" not in opened.headers and not browser.cookies
        assert opened.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert browser.get("/runs/some-run").status_code == 200  # the UI's own routes load the app
        for cookie in (f"parley_studio_token={TOKEN}", f"parley_studio_session={TOKEN}"):
            assert browser.get("/api/runs", headers={"Cookie": cookie}).status_code == 401
        assert browser.get("/api/runs", headers=server.auth()).status_code == 200


def test_the_websocket_takes_the_credential_as_a_subprotocol(studio):
    server = studio()
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "hi", "model": "scripted"}).json()["id"]
        wait_status(client, run_id, "waiting_input")
    with connect(server.ws_url(run_id), origin=server.base_url, subprotocols=subprotocols(TOKEN), open_timeout=30) as socket:  # type: ignore[arg-type]
        assert socket.subprotocol == "parley-studio"  # the fixed name: the credential is never echoed
        assert '"type": "ChatStarted"' in socket.recv(timeout=30)
    for offered in (subprotocols("wrong-token-0123456789"), ["parley-studio"], ["parley-studio", "parley-auth.%%%"]):
        with pytest.raises(InvalidStatus) as refused:
            connect(server.ws_url(run_id), origin=server.base_url, subprotocols=offered, open_timeout=30).close()  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as refused:  # a cookie is no credential
        connect(server.ws_url(run_id), origin=server.base_url, additional_headers={"Cookie": f"parley_studio_token={TOKEN}"},
                open_timeout=30).close()
    assert refused.value.response.status_code == 403


def test_another_origin_is_refused(studio):
    server = studio()
    with server.client() as client:
        run_id = client.post("/api/runs", json={"team": "research", "message": "hi", "model": "scripted"}).json()["id"]
        wait_status(client, run_id, "waiting_input")
        # A page elsewhere that got hold of the token: refused.
        evil = {"Origin": "http://evil.example"}
        assert client.post(f"/api/runs/{run_id}/input", json={"text": "exit"}, headers=evil).status_code == 403
        assert client.get("/api/runs", headers={"Origin": f"http://127.0.0.1:{server.port + 1}"}).status_code == 403
        assert client.get("/api/runs", headers={"Origin": server.base_url}).status_code == 200
    offered = subprotocols(TOKEN)
    for origin in ("http://evil.example", f"http://localhost.evil.example:{server.port}", "null"):
        with pytest.raises(InvalidStatus) as refused:
            connect(server.ws_url(run_id), origin=origin, subprotocols=offered, open_timeout=30).close()  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
    for origin in (server.base_url, f"http://localhost:{server.port}"):
        with connect(server.ws_url(run_id), origin=origin, subprotocols=offered, open_timeout=30) as socket:  # type: ignore[arg-type]
            assert '"type": "ChatStarted"' in socket.recv(timeout=30)


def _studio_command(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PARLEY_STUDIO_TOKEN"}
    environment.update(env or {}, PYTHONPATH=os.pathsep.join([str(SRC), str(ROOT)]))
    return subprocess.run([sys.executable, "-m", "parley.cli", "studio", *args], capture_output=True, text=True,
                          env=environment, timeout=60, check=False)


def test_a_public_bind_without_a_token_does_not_start(tmp_path):
    port = str(free_port())
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        done = _studio_command("--host", host, "--port", port, "--store", str(tmp_path / "runs.db"))
        assert done.returncode == 2, done
        assert "without a token" in done.stderr and "--token" in done.stderr
    short = _studio_command("--host", "0.0.0.0", "--port", port, "--token", "short", "--store", str(tmp_path / "runs.db"))
    assert short.returncode == 2 and "at least 16 characters" in short.stderr
    assert not (tmp_path / "runs.db").exists()  # refused before anything was opened


def test_an_oversized_body_is_refused_unread(studio):
    server = studio()
    with server.client() as client:
        huge = client.post("/api/teams/validate", content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
                           headers={"Content-Type": "application/json"})
        assert huge.status_code == 413
        assert client.post("/api/teams/validate", json={"yaml": "version: 1\nagents: {a: {}}\n"}).status_code in (200, 422)


def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b" " * size
        sent += size


def test_a_chunked_body_is_refused_past_the_limit_and_without_the_token_unread(studio):
    server = studio()
    with server.client() as client:  # no Content-Length: the bytes are counted as they come
        huge = client.post("/api/teams/validate", content=_chunks(6 * 1024 * 1024), headers={"Content-Type": "application/json"})
        assert huge.status_code == 413, huge.text
        assert client.get("/api/health").status_code == 200
    with server.client(None) as stranger:  # no token: 401 before a byte of the body is read
        refused = stranger.post("/api/teams", content=_chunks(6 * 1024 * 1024), headers={"Content-Type": "application/json"})
        assert refused.status_code == 401, refused.text
