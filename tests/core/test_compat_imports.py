"""Classic import paths resolve to parley's objects; `import parley` stays light."""

from __future__ import annotations

import subprocess
import sys

import parley


def test_classic_module_paths():
    from parley.agentchat import AssistantAgent, ConversableAgent, UserProxyAgent
    from parley.oai import OpenAIWrapper

    assert AssistantAgent is parley.AssistantAgent and ConversableAgent is parley.ConversableAgent
    assert UserProxyAgent is parley.UserProxyAgent and OpenAIWrapper is parley.OpenAIWrapper
    from parley.coding import CodeBlock, LocalCommandLineCodeExecutor

    assert CodeBlock is parley.code.CodeBlock and LocalCommandLineCodeExecutor.__name__ == "LocalCommandLineCodeExecutor"
    from parley.function_utils import get_function_schema

    assert callable(get_function_schema)


def test_import_parley_loads_no_provider_sdk_or_llama():
    code = (
        "import sys, parley; from parley import AssistantAgent, UserProxyAgent;"
        "heavy = [m for m in ('openai', 'anthropic', 'llama_cpp', 'httpx', 'sqlalchemy', 'redis', 'jupyter_client', 'docker', 'mcp', 'pydantic', 'rich') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
