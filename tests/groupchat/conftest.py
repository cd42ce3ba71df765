"""Helpers for group-chat tests: agents with scripted models."""

from __future__ import annotations

import pytest

import parley
from parley import ConversableAgent


def scripted(replies, **kwargs):
    """``(llm_config, client)``: a config whose model replays ``replies``, and that model."""
    client = parley.ScriptedModelClient(replies, **kwargs)
    client.keep_requests = True
    return {"config_list": [{"model": "scripted", "client": client}]}, client


def agent(name, replies=None, **kwargs):
    """A NEVER-asking agent that replies with a scripted model, or says ``"<name> here"``."""
    kwargs.setdefault("human_input_mode", "NEVER")
    if replies is None:
        kwargs.setdefault("default_auto_reply", f"{name} here")
        return ConversableAgent(name, llm_config=False, **kwargs)
    return ConversableAgent(name, llm_config=scripted(replies)[0], **kwargs)


@pytest.fixture
def team():
    return [agent(n) for n in ("alice", "bob", "carol", "dave")]
