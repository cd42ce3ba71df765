"""Fixtures of the spec tests: the seed-style OAI_CONFIG_LIST pointing at the fake OpenAI server."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def seed_config(openai_server, monkeypatch, tmp_path):
    """OAI_CONFIG_LIST as the seed sets it (gpt-4o-mini, a key, the server's URL); cwd in tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps(
        [{"model": "gpt-4o-mini", "api_key": "sk-fake-key", "base_url": openai_server.base_url}]))
    return openai_server
