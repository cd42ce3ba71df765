"""Shared fixtures: a clean event stream and a scripted model per test."""

from __future__ import annotations

import pytest

import parley


@pytest.fixture(autouse=True)
def _quiet_console():
    """Tests read events and IOQueue output, not the terminal."""
    from parley.io.console import console_sink

    console_sink.enabled = False
    yield
    console_sink.enabled = True


def scripted_config(replies, **kwargs):
    """An llm_config whose model replays ``replies`` (a list or a function of the request)."""
    return {"config_list": [{"model": "scripted", "client": parley.ScriptedModelClient(replies, **kwargs)}]}
