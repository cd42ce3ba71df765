"""Shared fixtures: a clean event stream and a scripted model per test."""

from __future__ import annotations

import pytest

import parley
from tests.servers.openai_fake import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _quiet_console():
    """Tests read events and IOQueue output, not the terminal."""
    from parley.io.console import console_sink

    console_sink.enabled = False
    yield
    console_sink.enabled = True


@pytest.fixture(scope="session")
def _openai_server():
    """A fake OpenAI-compatible server on 127.0.0.1 (tests/servers/openai_fake.py), one per session."""
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(_openai_server):
    _openai_server.reset()
    yield _openai_server
    _openai_server.reset()


def scripted_config(replies, **kwargs):
    """An llm_config whose model replays ``replies`` (a list or a function of the request)."""
    return {"config_list": [{"model": "scripted", "client": parley.ScriptedModelClient(replies, **kwargs)}]}
