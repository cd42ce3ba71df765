"""``TextAnalyzerAgent``: answers questions about a text with its model.

Its reply reads the text from the second-to-last message it received and the analysis
instructions from the last one (the way teachable agents use it), or call
``analyze_text(text, instructions)`` directly.
"""

from __future__ import annotations

from typing import Any, Literal

from ...agents.agent import Agent
from ...agents.assistant import LOCAL_DEFAULT_LLM_CONFIG
from ...agents.conversable import ConversableAgent, HumanInputMode
from ...messages import content_str

SYSTEM_MESSAGE = """You are an expert in text analysis.
The user will give you TEXT to analyze.
The user will give you analysis INSTRUCTIONS copied twice, at both the beginning and the end.
You will follow these INSTRUCTIONS in analyzing the TEXT, then give the results of your expert analysis \
in the format requested."""


class TextAnalyzerAgent(ConversableAgent):
    DEFAULT_CONFIG: Any = LOCAL_DEFAULT_LLM_CONFIG  # llm_config=None: the embedded offline model, as AssistantAgent

    def __init__(self, name: str = "analyzer", system_message: str = SYSTEM_MESSAGE, human_input_mode: HumanInputMode = "NEVER",
                 llm_config: dict | Literal[False] | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, system_message=system_message, human_input_mode=human_input_mode,
                         llm_config=llm_config, **kwargs)
        self.register_reply([Agent, None], TextAnalyzerAgent._analyze_in_reply, position=1)

    async def _analyze_in_reply(self, messages: list[dict] | None = None, sender: Agent | None = None,
                                config: Any = None) -> tuple[bool, str | None]:
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if len(messages) < 2:
            raise ValueError("TextAnalyzerAgent needs two messages: the text, then the analysis instructions")
        return True, await self.a_analyze_text(content_str(messages[-2].get("content")), content_str(messages[-1].get("content")))

    async def a_analyze_text(self, text_to_analyze: str, analysis_instructions: str) -> str:
        """The model's analysis of ``text_to_analyze`` following ``analysis_instructions``."""
        if self.client is None:
            raise ValueError(f"TextAnalyzerAgent {self.name!r} needs a model: give it an llm_config")
        text = (f"INSTRUCTIONS: {analysis_instructions}\nTEXT: {text_to_analyze}\nINSTRUCTIONS: {analysis_instructions}")
        prompt: list[dict] = [*self._oai_system_message, {"role": "user", "content": text}]
        response = await self.client.a_create(prompt, agent=self.name)
        return content_str(response.message.get("content"))

    def analyze_text(self, text_to_analyze: str, analysis_instructions: str) -> str:
        from ..._sync import run_sync

        return run_sync(self.a_analyze_text(text_to_analyze, analysis_instructions))


__all__ = ["TextAnalyzerAgent"]
