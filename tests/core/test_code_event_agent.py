"""CodeExecuted names the agent whose code ran; register_function has one signature; defaults are not shared mutables."""

from __future__ import annotations

import inspect

import parley
import parley.agents
from parley import ConversableAgent, UserProxyAgent, events
from parley.tools import registration


def test_code_executed_names_the_executing_agent(tmp_path):
    runner = UserProxyAgent("runner", human_input_mode="NEVER",
                            code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    writer = ConversableAgent("writer", llm_config=False, human_input_mode="NEVER")
    with events.capture(kinds=(events.CodeExecuted,)) as seen:
        reply = runner.generate_reply(messages=[{"role": "user", "content": "```python\nprint(6 * 7)\n```"}], sender=writer)
    assert "42" in reply
    [executed] = seen.of(events.CodeExecuted)
    assert executed.agent == "runner"


def test_one_register_function():
    assert parley.register_function is registration.register_function
    assert parley.agents.register_function is registration.register_function
    assert parley.tools.register_function is registration.register_function


def test_no_shared_mutable_defaults():
    for function in (ConversableAgent.__init__, ConversableAgent.initiate_chat, ConversableAgent.a_initiate_chat,
                     UserProxyAgent.__init__):
        for parameter in inspect.signature(function).parameters.values():
            assert not isinstance(parameter.default, (dict, list, set)), (function.__qualname__, parameter.name)


def test_user_proxy_default_still_runs_code_and_each_has_its_own_config():
    first, second = UserProxyAgent("first"), UserProxyAgent("second")
    assert first.code_execution_config == {}  # classic default: code execution on, default settings
    first.code_execution_config["work_dir"] = "elsewhere"
    assert second.code_execution_config == {}
