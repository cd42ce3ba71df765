"""Accounts: ``parley studio adduser``; passwords stored as scrypt hashes; once an account
exists every call needs a logged-in user, and no user sees or drives another's teams and runs."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
import sqlalchemy as sa
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import ROOT, SRC, TOKEN, wait_status


def adduser(store: str, name: str, password: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "parley.cli", "studio", "adduser", name, "--store", store, "--password-stdin"],
                          input=password + "\n", capture_output=True, text=True, env=environment, timeout=60, check=False)


def test_user_a_cannot_read_or_drive_user_b_s_runs(studio, tmp_path):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert adduser(store, "alice", "alice-password-1").returncode == 0
    assert adduser(store, "bob", "bob-password-22").returncode == 0
    again = adduser(store, "alice", "another-password")
    assert again.returncode == 1 and "exists already" in again.stderr
    assert "at least 8" in adduser(store, "carol", "short").stderr
    engine = sa.create_engine(store)
    with engine.connect() as connection:
        hashes = dict(connection.exec_driver_sql("SELECT name, password_hash FROM parley_studio_users").all())
    engine.dispose()
    assert hashes["alice"].startswith("scrypt$") and "alice-password-1" not in hashes["alice"]

    server = studio(store=store)
    with server.client() as anonymous:
        assert anonymous.get("/api/runs").status_code == 401  # the token alone is not a user
        assert anonymous.get("/api/me").json() == {"user": None, "accounts": True}
        assert anonymous.post("/api/login", json={"name": "alice", "password": "wrong-password"}).status_code == 401
        assert anonymous.post("/api/login", json={"name": "nobody", "password": "alice-password-1"}).status_code == 401
        alice_session = anonymous.post("/api/login", json={"name": "alice", "password": "alice-password-1"}).json()["session"]
        bob_session = anonymous.post("/api/login", json={"name": "bob", "password": "bob-password-22"}).json()["session"]
    with server.client(alice_session) as alice, server.client(bob_session) as bob:
        assert alice.get("/api/me").json() == {"user": "alice", "accounts": True}
        run_id = alice.post("/api/runs", json={"team": "research", "message": "alice's task", "model": "scripted"}).json()["id"]
        wait_status(alice, run_id, "waiting_input")
        two_agents = "version: 1\nagents:\n  a: {}\n  b: {}\nrun: {initiator: a, recipient: b}\n"
        team_id = alice.post("/api/teams", json={"yaml": two_agents}).json()["id"]
        assert [r["id"] for r in alice.get("/api/runs").json()] == [run_id]

        assert bob.get("/api/runs").json() == [] and bob.get("/api/teams").json() == []
        for method, path, body in (("GET", f"/api/runs/{run_id}", None), ("POST", f"/api/runs/{run_id}/input", {"text": "exit"}),
                                   ("POST", f"/api/runs/{run_id}/stop", None), ("POST", f"/api/runs/{run_id}/resume", None),
                                   ("GET", f"/api/runs/{run_id}/export", None), ("GET", f"/api/teams/{team_id}", None),
                                   ("PUT", f"/api/teams/{team_id}", {"yaml": "version: 1\nagents: {a: {}}\n"}),
                                   ("DELETE", f"/api/teams/{team_id}", None)):
            response = bob.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
        assert bob.post("/api/runs", json={"team": team_id, "message": "x"}).status_code == 404  # not his team
        with pytest.raises(InvalidStatus):
            connect(server.ws_url(run_id), additional_headers={"Authorization": f"Bearer {bob_session}"}, open_timeout=30).close()
        with pytest.raises(InvalidStatus):  # nor the token's holder without a login
            connect(server.ws_url(run_id), additional_headers={"Authorization": f"Bearer {TOKEN}"}, open_timeout=30).close()

        info = wait_status(alice, run_id, "waiting_input")  # untouched by bob
        assert info["state"] == "active"
        alice_auth = {"Authorization": f"Bearer {alice_session}"}
        with connect(server.ws_url(run_id), additional_headers=alice_auth, open_timeout=30) as ws:
            assert '"ChatStarted"' in ws.recv(timeout=30)
        assert alice.post(f"/api/runs/{run_id}/input", json={"text": "exit"}).status_code == 200
        wait_status(alice, run_id, "finished")
        assert alice.post("/api/logout").status_code == 200
        assert alice.get("/api/runs").status_code == 401  # the session is gone


def test_passwords_can_t_be_guessed_at_speed(studio, tmp_path):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert adduser(store, "alice", "alice-password-1").returncode == 0
    server = studio(store=store)
    with server.client() as client:
        for attempt in range(5):
            assert client.post("/api/login", json={"name": "alice", "password": f"guess-{attempt}"}).status_code == 401
        refused = client.post("/api/login", json={"name": "alice", "password": "alice-password-1"})
        assert refused.status_code == 429 and "too many failed logins" in refused.text  # even the right one, for now
        assert client.post("/api/login", json={"name": "bob", "password": "whatever-1"}).status_code == 401  # per name
    # Someone else's failures don't lock alice out from her own address (a second loopback address here).
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=server.base_url, headers=server.auth(), transport=elsewhere, timeout=60) as alice:
        assert alice.post("/api/login", json={"name": "alice", "password": "alice-password-1"}).status_code == 200


def test_login_names_are_checked_before_any_lookup(studio, tmp_path):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert adduser(store, "alice", "alice-password-1").returncode == 0
    server = studio(store=store)
    with server.client() as client:
        for name in ("a" * 65, "x" * (3 * 1024 * 1024), "<alice>", "alice\n"):
            refused = client.post("/api/login", json={"name": name, "password": "guess-1"})
            assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "name"], refused.text[:200]
            assert len(refused.content) < 1000 and "guess-1" not in refused.text  # nothing echoed
        for attempt in range(6):  # refused names are not counted against the real one
            client.post("/api/login", json={"name": "a" * 65, "password": f"guess-{attempt}"})
        assert client.post("/api/login", json={"name": "alice", "password": "alice-password-1"}).status_code == 200


def test_a_new_access_token_ends_every_login_session(studio, tmp_path):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    assert adduser(store, "alice", "alice-password-1").returncode == 0
    server = studio(store=store)
    with server.client() as client:
        session = client.post("/api/login", json={"name": "alice", "password": "alice-password-1"}).json()["session"]
    with server.client(session) as alice:
        assert alice.get("/api/me").json()["user"] == "alice"
    server.stop()
    same = studio(store=store)  # the same token: the session lives on
    with same.client(session) as alice:
        assert alice.get("/api/me").json()["user"] == "alice"
    same.stop()
    other = "another-access-token-9876543210"
    rotated = studio(store=store, token=other)
    with rotated.client(session) as alice:
        assert alice.get("/api/me").status_code == 401  # created under the old token: gone
    with rotated.client(other) as client:
        assert client.post("/api/login", json={"name": "alice", "password": "alice-password-1"}).status_code == 200
