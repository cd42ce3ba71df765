"""The seed article's own code, with ``autogen`` changed to ``parley``, against a real
OpenAI-compatible HTTP server on loopback (the official ``openai`` SDK talks to it).

The code blocks are read from ``shared/seed/autogen-article.md`` beside the repository, so this
test checks the article's code as written, not a copy of it. The article uses ``autogen.X``
without importing ``autogen``; "changing the import" here means ``import parley as autogen`` and
``from autogen import`` → ``from parley import``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import parley
from parley import IOQueue, IOStream, events

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "autogen-article.md"


def seed_blocks() -> list[str]:
    if not SEED.exists():
        pytest.skip(f"the seed article is not at {SEED} (shared/ is laid beside the repository)")
    blocks = re.findall(r"```python\n(.*?)```", SEED.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if not b.lstrip().startswith("!pip")]


def as_parley(code: str) -> str:
    return "import parley as autogen\n" + code.replace("from autogen import", "from parley import")


@pytest.fixture
def server(openai_server):
    return openai_server


def test_seed_first_example_runs_with_only_the_import_changed(server, tmp_path, monkeypatch):
    blocks = seed_blocks()
    first = [b for b in blocks[:4]]
    assert "config_list_from_json" in first[0] and "initiate_chat" in first[3]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-fake-key", "base_url": server.base_url}]))
    server.add(
        {"content": "Let me check.\n```python\n# filename: ytd.py\nimport datetime\nprint('today', datetime.date(2024, 12, 19))\n```"},
        {"content": "Today is 2024-12-19. META and TESLA gains are shown above.\nTERMINATE"},
    )
    namespace: dict = {}
    with events.capture() as seen:
        exec(compile(as_parley("\n".join(first)), str(SEED), "exec"), namespace)
    user_proxy, assistant = namespace["user_proxy"], namespace["assistant"]
    history = user_proxy.chat_messages[assistant]
    assert [m["role"] for m in history] == ["assistant", "user", "assistant", "user"]
    assert history[2]["content"].startswith("exitcode: 0 (execution succeeded)\nCode output: \ntoday 2024-12-19")
    assert (tmp_path / "coding" / "ytd.py").exists()
    assert history[-1]["content"].endswith("TERMINATE")
    # The model was called through HTTP with the seed's settings: temperature 0, the system message first.
    assert len(server.requests) == 2 and server.requests[0]["temperature"] == 0
    assert server.requests[0]["messages"][0]["role"] == "system"
    assert [e.model for e in seen.of(events.ModelCalled)] == ["gpt-4o-mini", "gpt-4o-mini"]


def test_seed_research_team_runs_with_only_the_import_changed(server, tmp_path, monkeypatch):
    blocks = seed_blocks()
    research = blocks[4:]
    assert "GroupChatManager" in "\n".join(research) and "output_report" in research[-1]
    monkeypatch.chdir(tmp_path)
    # The article never defines gpt4o_config; a user would, like this.
    gpt4o_config = {"config_list": [{"model": "gpt-4o-mini", "api_key": "sk-fake-key", "base_url": server.base_url}],
                    "temperature": 0}
    server.add(
        {"content": "Planner"},                       # the manager picks the Planner
        {"content": "Plan: the engineer lists papers, the scientist categorizes them."},
        {"content": "Admin"},                         # then the human Admin
    )
    code = "from parley import AssistantAgent, UserProxyAgent, GroupChat, GroupChatManager\n" + "\n".join(research)
    namespace: dict = {"gpt4o_config": gpt4o_config}
    stream = IOQueue(["exit"])
    with IOStream.set_default(stream), events.capture() as seen:
        exec(compile(as_parley(code), str(SEED), "exec"), namespace)
    groupchat = namespace["groupchat"]
    assert [m["name"] for m in groupchat.messages] == ["Admin", "Planner"]
    assert [e.speaker for e in seen.of(events.SpeakerSelected)] == ["Planner", "Admin"]
    assert len(stream.prompts) == 1 and "Admin" in stream.prompts[0]
    assert isinstance(namespace["output_report"], parley.ChatResult)
