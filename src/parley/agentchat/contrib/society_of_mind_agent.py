"""``SocietyOfMindAgent``: a whole group chat behind one agent.

When it must reply, it runs its inner group chat on the request (the "inner monologue") and
answers with one message prepared from that transcript: by its model (``llm_config``) asked with
``response_preparer`` as the prompt, by ``response_preparer(agent, inner_messages)`` when that is
a callable, or, without a model, the inner chat's last message.

    team = GroupChatManager(GroupChat([writer, critic], messages=[], max_round=6), llm_config=llm_config)
    society = SocietyOfMindAgent("society", chat_manager=team, llm_config=llm_config)
    user.initiate_chat(society, message="Write a haiku about autumn.")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ...agents.agent import Agent
from ...agents.conversable import ConversableAgent, HumanInputMode
from ...messages import content_str

DEFAULT_RESPONSE_PREPARER = ("Output a standalone response to the original request, "
                             "without mentioning any of the intermediate discussion.")


class SocietyOfMindAgent(ConversableAgent):
    def __init__(
        self,
        name: str,
        chat_manager: Any,
        response_preparer: str | Callable[[Any, list[dict]], str] | None = None,
        is_termination_msg: Callable[[dict], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: HumanInputMode = "TERMINATE",
        function_map: dict | None = None,
        code_execution_config: dict | Literal[False] = False,
        llm_config: dict | Literal[False] | None = False,
        default_auto_reply: str | dict = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name, system_message="", is_termination_msg=is_termination_msg,
            max_consecutive_auto_reply=max_consecutive_auto_reply, human_input_mode=human_input_mode,
            function_map=function_map, code_execution_config=code_execution_config, llm_config=llm_config,
            default_auto_reply=default_auto_reply, **kwargs,
        )
        self.update_chat_manager(chat_manager)
        if response_preparer is None:
            response_preparer = DEFAULT_RESPONSE_PREPARER
        if not isinstance(response_preparer, str) and not callable(response_preparer):
            raise TypeError("SocietyOfMindAgent response_preparer must be a prompt (str) or a callable (agent, messages) -> str")
        self.response_preparer = response_preparer
        # Tried after the termination and human-input check, before any model reply.
        self.register_reply([Agent, None], SocietyOfMindAgent.generate_inner_monologue_reply, position=1)

    @property
    def chat_manager(self) -> Any:
        return self._chat_manager

    def update_chat_manager(self, chat_manager: Any) -> None:
        """Use another inner team (a GroupChatManager)."""
        if getattr(chat_manager, "groupchat", None) is None:
            raise TypeError("SocietyOfMindAgent chat_manager must be a GroupChatManager")
        self._chat_manager = chat_manager

    async def generate_inner_monologue_reply(
        self, messages: list[dict] | None = None, sender: Agent | None = None, config: Any = None,
    ) -> tuple[bool, str | None]:
        """Run the inner group chat on the last message; reply with the prepared response."""
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages:
            return False, None
        groupchat = self._chat_manager.groupchat
        groupchat.reset()
        for agent in [self._chat_manager, *groupchat.agents]:
            agent.reset()
        # Earlier turns of the outer conversation are context for the team (and its speaker selection).
        for message in messages[:-1]:
            groupchat.messages.append({**message, "content": content_str(message.get("content")),
                                       "name": message.get("name") or (sender.name if sender is not None else "user")})
        request = content_str(messages[-1].get("content"))
        await self.a_initiate_chat(self._chat_manager, message=request, clear_history=False, silent=self.silent)
        inner = list(groupchat.messages[len(messages) - 1:])
        return True, await self._prepare_response(request, inner)

    async def _prepare_response(self, request: str, inner: list[dict]) -> str:
        if callable(self.response_preparer):
            return self.response_preparer(self, inner)
        if self.client is None:
            last = inner[-1] if inner else {"content": ""}
            return content_str(last.get("content")).replace("TERMINATE", "").strip()
        transcript = "\n\n".join(f"{m.get('name', 'unknown')}: {content_str(m.get('content'))}" for m in inner)
        prompt = [
            {"role": "system", "content": "Earlier you were asked the following:\n\n" + request
             + "\n\nYour team then worked on that request. Here is the transcript of that conversation:"},
            {"role": "user", "content": transcript},
            {"role": "system", "content": self.response_preparer},
        ]
        response = await self.client.a_create(prompt, agent=self.name, purpose="reply")
        return content_str(response.message.get("content")).replace("TERMINATE", "").strip()


__all__ = ["SocietyOfMindAgent"]
