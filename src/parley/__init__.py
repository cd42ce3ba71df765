"""parley: multi-agent conversation with the classic AutoGen API.

``import parley`` stays light: provider SDKs, llama.cpp, the code executors and the stores are
imported when first used. Names are resolved lazily on attribute access.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Agent": "parley.agents.agent",
    "LLMAgent": "parley.agents.agent",
    "ConversableAgent": "parley.agents.conversable",
    "register_function": "parley.tools.registration",
    "AssistantAgent": "parley.agents.assistant",
    "UserProxyAgent": "parley.agents.user_proxy",
    "ChatResult": "parley.chat.result",
    "initiate_chats": "parley.chat.sequential",
    "a_initiate_chats": "parley.chat.sequential",
    "gather_usage_summary": "parley.usage",
    "OpenAIWrapper": "parley.models.wrapper",
    "ModelClient": "parley.models.protocol",
    "ModelRequest": "parley.models.protocol",
    "ModelResponse": "parley.models.protocol",
    "ScriptedModelClient": "parley.models.scripted",
    "config_list_from_json": "parley.models.config",
    "config_list_from_models": "parley.models.config",
    "config_list_openai_aoai": "parley.models.config",
    "config_list_from_dotenv": "parley.models.config",
    "filter_config": "parley.models.config",
    "get_config_list": "parley.models.config",
    "Cache": "parley.cache",
    "GroupChat": "parley.groupchat",
    "GroupChatManager": "parley.groupchat",
    "IOStream": "parley.io",
    "IOConsole": "parley.io",
    "IOQueue": "parley.io",
}
_SUBMODULES = {
    "runtime_logging", "code_utils", "function_utils", "events", "agentchat", "coding", "oai", "io", "tools", "code", "models",
    "cache", "store", "telemetry",
    # classic module paths (autogen.<name>)
    "errors", "exception_utils", "math_utils", "graph_utils", "token_count_utils", "logger",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(import_module(module), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        value = import_module(f"parley.{name}")
        globals()[name] = value
        return value
    raise AttributeError(f"module 'parley' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


def _install_console() -> None:
    # The console transcript is a sink on the default event stream; remove it to go quiet.
    from .events import default_stream
    from .io.console import console_sink

    default_stream.add_sink(console_sink)


_install_console()

if TYPE_CHECKING:  # pragma: no cover
    # What the lazy names are, for type checkers; `X as X` marks each as a re-export.
    from .agents.agent import Agent as Agent
    from .agents.agent import LLMAgent as LLMAgent
    from .agents.assistant import AssistantAgent as AssistantAgent
    from .agents.conversable import ConversableAgent as ConversableAgent
    from .agents.user_proxy import UserProxyAgent as UserProxyAgent
    from .cache import Cache as Cache
    from .chat.result import ChatResult as ChatResult
    from .chat.sequential import a_initiate_chats as a_initiate_chats
    from .chat.sequential import initiate_chats as initiate_chats
    from .groupchat import GroupChat as GroupChat
    from .groupchat import GroupChatManager as GroupChatManager
    from .io import IOConsole as IOConsole
    from .io import IOQueue as IOQueue
    from .io import IOStream as IOStream
    from .models.config import config_list_from_dotenv as config_list_from_dotenv
    from .models.config import config_list_from_json as config_list_from_json
    from .models.config import config_list_from_models as config_list_from_models
    from .models.config import config_list_openai_aoai as config_list_openai_aoai
    from .models.config import filter_config as filter_config
    from .models.config import get_config_list as get_config_list
    from .models.protocol import ModelClient as ModelClient
    from .models.protocol import ModelRequest as ModelRequest
    from .models.protocol import ModelResponse as ModelResponse
    from .models.scripted import ScriptedModelClient as ScriptedModelClient
    from .models.wrapper import OpenAIWrapper as OpenAIWrapper
    from .tools.registration import register_function as register_function
    from .usage import gather_usage_summary as gather_usage_summary
