"""A script that chats through the hosted providers exits without aiohttp's "Unclosed client
session" / "Unclosed connector" complaints: the SDK clients' HTTP sessions are closed when their
event loop shuts down (asyncio.run) or, for the loops the sync API keeps per thread, at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import parley

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from parley import AssistantAgent, UserProxyAgent

    openai_url, anthropic_url, mode = sys.argv[1:]
    entries = [
        {"model": "gpt-4o-mini", "base_url": openai_url, "api_key": "k-clean-exit"},
        {"model": "gpt-4o", "api_type": "azure", "base_url": openai_url.removesuffix("/v1"), "api_version": "2024-06-01",
         "api_key": "k-clean-exit"},
        {"model": "claude-3-5-haiku-latest", "api_type": "anthropic", "base_url": anthropic_url, "api_key": "k-clean-exit"},
    ]
    for entry in entries:
        user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
        assistant = AssistantAgent("assistant", llm_config={"config_list": [entry], "stream": entry.get("api_type") == "azure"})
        if mode == "sync":  # the sync API: one loop per thread, alive until exit
            result = user.initiate_chat(assistant, message="hi", max_turns=1, silent=True)
        elif mode == "asyncio.run":
            result = asyncio.run(user.a_initiate_chat(assistant, message="hi", max_turns=1, silent=True))
        elif mode == "own loop left open":  # the script's own loop, never shut down
            loop = asyncio.new_event_loop()
            result = loop.run_until_complete(user.a_initiate_chat(assistant, message="hi", max_turns=1, silent=True))
        else:  # the sync API called from inside a running loop: a worker thread's loop
            async def nested():
                return user.initiate_chat(assistant, message="hi", max_turns=1, silent=True)
            result = asyncio.run(nested())
        print("REPLY", result.summary)
""")


@pytest.mark.parametrize("mode", ["sync", "asyncio.run", "nested", "own loop left open"])
def test_no_unclosed_session_warning_at_exit(mode, openai_server, anthropic_server):
    source = os.path.dirname(os.path.dirname(parley.__file__))  # this checkout's parley, wherever pytest runs
    env = {**os.environ, "PYTHONPATH": source}
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", SCRIPT, openai_server.base_url, anthropic_server.base_url, mode],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("REPLY Hello from the fake server.") == 3, done.stdout + done.stderr
    assert len(openai_server.requests) == 2 and len(anthropic_server.requests) == 1
    assert "Unclosed client session" not in done.stderr and "Unclosed connector" not in done.stderr, done.stderr
    if mode != "own loop left open":  # (that loop is the script's to close)
        assert "ResourceWarning" not in done.stderr, done.stderr
