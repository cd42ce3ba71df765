"""Fixtures: the fake OpenAI and Anthropic servers and a real redis-server, all on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from parley.models import retry
from tests.servers.anthropic_fake import FakeAnthropicServer

# A key the tests look for in every error, event, log line and cache entry: it must never show.
SECRET_KEY = "sk-test-SECRET-0123456789abcdef"




@pytest.fixture
def waits(monkeypatch):
    """The retry layer's sleeps, recorded instead of slept: waits are checked exactly, with no wall clock."""
    recorded: list[float] = []

    async def record(seconds):
        recorded.append(seconds)

    monkeypatch.setattr(retry, "sleep", record)
    return recorded


@pytest.fixture(scope="session")
def _anthropic_server():
    server = FakeAnthropicServer().start()
    yield server
    server.stop()


@pytest.fixture
def anthropic_server(_anthropic_server):
    _anthropic_server.reset()
    yield _anthropic_server
    _anthropic_server.reset()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def grammar_steps():
    """llama.cpp's grammar engine over the embedded model's vocabulary (no weights: ``grammar_steps.py``)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'parley[local]')")
    from parley.models.local import default_model_path
    from parley.models.protocol import MissingPackageError

    from .grammar_steps import GrammarSteps

    try:
        path = default_model_path()
    except MissingPackageError as missing:
        pytest.skip(str(missing))
    return GrammarSteps(path)
