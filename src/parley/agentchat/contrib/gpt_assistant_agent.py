"""Classic module path ``autogen.agentchat.contrib.gpt_assistant_agent``.

Classic's ``GPTAssistantAgent`` ran each reply on OpenAI's hosted Assistants API (a remote
assistant, threads and runs, all state on OpenAI's servers). parley does not implement that API
(OpenAI is retiring it in favour of the Responses API); the module imports, so scripts that
import it still load, and making the agent says what to use instead.
"""

from __future__ import annotations

from typing import Any

from ...agents.conversable import ConversableAgent

_INSTEAD = ("GPTAssistantAgent runs on OpenAI's Assistants API, which parley does not implement. Use "
            "AssistantAgent(name, system_message=<instructions>, llm_config={'config_list': [...]}) and give it tools "
            "with register_for_llm / register_function (code interpreter: a UserProxyAgent with code_execution_config)")


class GPTAssistantAgent(ConversableAgent):
    """Not available in parley: making one raises ``NotImplementedError`` naming the replacement."""

    DEFAULT_MODEL_NAME = "gpt-4-0125-preview"

    def __init__(self, name: str = "GPT Assistant", instructions: str | None = None, llm_config: Any = None,
                 assistant_config: dict | None = None, overwrite_instructions: bool = False,
                 overwrite_tools: bool = False, **kwargs: Any) -> None:
        raise NotImplementedError(_INSTEAD)


__all__ = ["GPTAssistantAgent"]
