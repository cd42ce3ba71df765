"""Fixtures of the fan-out tests: a two-turn team spec on the fake OpenAI server, its
OAI_CONFIG_LIST in a file named by the environment (so Ray workers, started later, inherit it),
and a Ray head on 127.0.0.1 with two custom resources standing for two nodes."""

from __future__ import annotations

import json
import os

import pytest


def team_document() -> dict:
    return {
        "version": 1,
        "name": "fan-out",
        "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST", "filter_dict": {"model": "gpt-4o-mini"}},
                           "temperature": 0}},
        "agents": {
            "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                     "default_auto_reply": "go on"},
            "assistant": {"class": "AssistantAgent", "llm_config": "gpt"},
        },
        "run": {"initiator": "user", "recipient": "assistant", "message": "Task: {task}", "max_turns": 2},
    }


def echo_reply(body: dict) -> dict:
    """A deterministic reply naming the task and the turn; a task saying "refuse" gets an HTTP 400."""
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if "refuse" in first:
        return {"status": 400, "error": "refused by policy"}
    return {"content": f"done: {first} (turn {len(body['messages']) // 2})"}


# Package scope: the variable is set for these tests (and the Ray workers they start, which take
# the driver's environment) and put back before any other package's tests run.
@pytest.fixture(scope="package")
def oai_config_env(_openai_server, tmp_path_factory):
    path = tmp_path_factory.mktemp("oai") / "OAI_CONFIG_LIST.json"
    path.write_text(json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-fake-key", "base_url": _openai_server.base_url}]))
    old = os.environ.get("OAI_CONFIG_LIST")
    os.environ["OAI_CONFIG_LIST"] = str(path)
    yield _openai_server
    if old is None:
        os.environ.pop("OAI_CONFIG_LIST", None)
    else:
        os.environ["OAI_CONFIG_LIST"] = old


@pytest.fixture
def fake_openai(oai_config_env):
    oai_config_env.reset()
    oai_config_env.default = echo_reply
    yield oai_config_env
    oai_config_env.reset()


@pytest.fixture(scope="package")
def ray_head(oai_config_env):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'parley[ray]'")
    ray.init(address="local", include_dashboard=False, num_cpus=2, resources={"node_a": 1, "node_b": 1},
             log_to_driver=False, _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()
