"""Fixtures of the Studio tests: a real ``parley studio`` process on 127.0.0.1 (a free port), the
fake OpenAI server with a seed-style OAI_CONFIG_LIST, httpx and websockets as the clients."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers.openai_fake import FakeOpenAIServer

# The Studio's store: a SQLite file, or a fresh database on the session's real PostgreSQL server.
from tests.store.conftest import postgres_url, store_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
TOKEN = "studio-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], what: str, limit_s: float = 90.0, every_s: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy (a liveness bound, not a speed check)."""
    deadline = time.monotonic() + limit_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"gave up waiting for {what} (last: {last!r})")


def deterministic(body: dict) -> dict:
    """The fake model's answer as a function of the request alone: a speaker selection names a
    candidate by the conversation's length, an agent says how much it has seen. A run resumed in
    another process gets the answers the uninterrupted run got."""
    messages = body["messages"]
    for message in reversed(messages):
        match = re.search(r"select the next role from \[(.*?)\] to play", str(message.get("content") or ""))
        if match:
            names = re.findall(r"'([^']*)'", match.group(1))
            return {"content": names[len(messages) % len(names)]}
    return {"content": f"{str(messages[0]['content'])[:8]} answers message {len(messages)}"}


class StudioProcess:
    """``parley studio`` in its own process; ``client`` talks to it with the token."""

    def __init__(self, folder: Path, store: str, env: dict[str, str], args: tuple[str, ...] = (), token: str = TOKEN) -> None:
        self.folder = folder
        self.token = token
        self.store = store
        self.env = env
        self.args = args
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = folder / f"studio-{self.port}.log"

    def start(self) -> StudioProcess:
        environment = {k: v for k, v in os.environ.items() if k not in ("PARLEY_STUDIO_TOKEN", "PARLEY_SPEC_ALLOW_MODULES")}
        environment.update(self.env, PYTHONPATH=os.pathsep.join([str(SRC), str(ROOT)]))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "parley.cli", "studio", "--host", "127.0.0.1", "--port", str(self.port),
                 "--store", self.store, "--token", self.token, *self.args],
                cwd=self.folder, env=environment, stdout=log, stderr=subprocess.STDOUT)

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"parley studio exited {self.process.returncode}:\n{self.output()}")
            try:
                return httpx.get(f"{self.base_url}/api/health", headers=self.auth(self.token), timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, "the Studio to answer")
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @staticmethod
    def auth(token: str = TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.auth(token) if token else {}, timeout=60)

    def ws_url(self, run_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/runs/{run_id}/events"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def model_server():
    server = FakeOpenAIServer(default=deterministic).start()
    yield server
    server.stop()


@pytest.fixture
def studio(tmp_path, model_server):
    """A factory: ``studio(store=None, args=(), token=TOKEN)`` starts a Studio process (the same
    store again after a kill: pass ``store=``); all are stopped at the end."""
    started: list[StudioProcess] = []
    env = {"OAI_CONFIG_LIST": json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-fake-key-0123456789",
                                           "base_url": model_server.base_url}])}

    def start(store: str | None = None, args: tuple[str, ...] = (), token: str = TOKEN) -> StudioProcess:
        process = StudioProcess(tmp_path, store or f"sqlite:///{tmp_path / 'runs.db'}", env, args, token)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def run_info(client: httpx.Client, run_id: str) -> dict:
    response = client.get(f"/api/runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_status(client: httpx.Client, run_id: str, *statuses: str) -> dict:
    """Wait until the run's status is one of ``statuses`` (waiting: with the question asked; ended: its task done)."""
    def reached() -> dict | None:
        response = client.get(f"/api/runs/{run_id}")
        if response.status_code != 200:
            return None
        info = response.json()
        if info["status"] not in statuses:
            return None
        if info["status"] == "waiting_input":
            return info if info["input_request"] else None
        return info if info["status"] == "running" or not info["live"] else None

    return wait_for(reached, f"run {run_id} to be {' or '.join(statuses)}")


def wait_done(client: httpx.Client, run_id: str) -> dict:
    """Wait until the run finished and the Studio wrote its state: the task leaves ``live`` a moment
    before its row says ``done``."""
    wait_status(client, run_id, "finished")

    def done() -> dict | None:
        info = run_info(client, run_id)
        return info if info["state"] == "done" else None

    return wait_for(done, f"run {run_id}'s state to be done")
