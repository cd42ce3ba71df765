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


def test_classic_submodule_paths():
    import importlib

    paths = {
        "agentchat.agent": ["Agent", "LLMAgent"], "agentchat.conversable_agent": ["ConversableAgent", "register_function"],
        "agentchat.assistant_agent": ["AssistantAgent"], "agentchat.user_proxy_agent": ["UserProxyAgent"],
        "agentchat.groupchat": ["GroupChat", "GroupChatManager"], "agentchat.chat": ["ChatResult", "initiate_chats"],
        "oai.client": ["OpenAIWrapper", "ModelClient"],
        "oai.openai_utils": ["config_list_from_json", "filter_config", "config_list_from_dotenv", "get_config_list"],
    }
    for path, names in paths.items():
        module = importlib.import_module(f"parley.{path}")
        for name in names:
            assert getattr(module, name) is getattr(parley, name), f"parley.{path}.{name}"
    from parley.coding.base import CodeBlock, CodeResult

    assert CodeBlock is parley.code.CodeBlock and CodeResult is parley.code.CodeResult


def test_import_parley_loads_no_provider_sdk_or_llama():
    code = (
        "import sys, parley; from parley import AssistantAgent, UserProxyAgent;"
        "heavy = [m for m in ('openai', 'anthropic', 'llama_cpp', 'httpx', 'sqlalchemy', 'redis', 'jupyter_client', 'docker',"
        " 'mcp', 'pydantic', 'rich') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_lazy_names_typed_for_checkers_are_the_exports():
    # `import parley` resolves names lazily; the TYPE_CHECKING block tells type checkers what
    # they are, and must name the same objects from the same modules.
    import ast
    from pathlib import Path

    tree = ast.parse(Path(parley.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    typed = {alias.name: "parley" + "." * (node.level > 0) + (node.module or "")
             for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names
             if alias.asname == alias.name}
    assert typed == parley._EXPORTS
