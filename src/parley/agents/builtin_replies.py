"""The built-in replies of ``ConversableAgent``'s reply chain, as a base class of it.

Registered oldest first, so that the chain runs them newest first: termination & human check →
function call → tool calls → code execution → model reply. Each is a plain function that decides
synchronously whether it applies and returns ``(final, reply)`` at once, or a coroutine when it
has real work to await (a human, a tool, code, a model): the chain pays no coroutine for a step
that does not apply. Their classic public names (``generate_oai_reply`` …) are made from a table
in ``conversable``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .. import events
from ..chat import conversation as _conversation
from ..chat.conversation import current as _current_conversation
from ..messages import content_str
from . import reply_protocol
from .agent import Agent
from .prompt_cache import PromptCache, prompt_for

if TYPE_CHECKING:
    pass


def _executor_for(config: dict) -> Any:
    from ..code import executor_from_config

    return executor_from_config(config)


def _reply_from_model_message(message: dict) -> str | dict | None:
    """Classic shape: the text when the model only wrote text, else the message dict."""
    if message.get("tool_calls") or message.get("function_call"):
        return {k: v for k, v in message.items() if v is not None or k == "content"}
    return message.get("content")


class BuiltinReplies:
    """The built-in reply functions; the state they read is ``ConversableAgent``'s."""

    # Whether the reply protocol is on when llm_config does not say (AssistantAgent: yes).
    REPLY_PROTOCOL_BY_DEFAULT = False

    if TYPE_CHECKING:
        _name: str
        _oai_messages: defaultdict[Agent, list[dict]]
        _oai_system_message: list[dict]
        _prompt_caches: dict[Agent, PromptCache]
        _function_map: dict[str, Callable]
        _consecutive_auto_reply_counter: defaultdict[Agent | None, int]
        _max_consecutive_auto_reply_dict: defaultdict[Agent | None, int]
        _is_termination_msg: Callable[[dict], bool]
        _code_execution_config: dict | Literal[False]
        human_input_mode: str
        client: Any
        client_cache: Any
        llm_config: dict | Literal[False]

        @property
        def code_executor(self) -> Any: ...

        async def _ask_human(self, prompt: str, *, opening: bool = False) -> str: ...

    def _check_termination_and_human(
        self, messages: list[dict] | None = None, sender: Agent | None = None, config: Any = None
    ) -> Any:
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if self.human_input_mode != "NEVER":
            return self._termination_and_human_reply(messages[-1] if messages else {}, sender)
        message = messages[-1] if messages else {}
        if self._consecutive_auto_reply_counter[sender] >= self._max_consecutive_auto_reply_dict[sender]:
            reason = "max_consecutive_auto_reply"
        elif self._is_termination_msg(message):
            reason = "termination_message"
        else:
            self._consecutive_auto_reply_counter[sender] += 1
            return False, None
        events.emit(events.TerminationChecked(agent=self._name, reason=reason))
        self._consecutive_auto_reply_counter[sender] = 0
        return True, None

    async def _termination_and_human_reply(self, message: dict, sender: Agent | None) -> tuple[bool, dict | None]:
        """Modes ALWAYS and TERMINATE: ask the human when the mode says so. An empty answer
        means auto-reply; ``exit`` ends the chat."""
        reply = ""
        asked = False
        sender_name = "the sender" if sender is None else sender.name
        if self.human_input_mode == "ALWAYS":
            reply = await self._ask_human(
                f"Replying as {self._name}. Provide feedback to {sender_name}. Press enter to skip and use auto-reply, "
                "or type 'exit' to end the conversation: "
            )
            asked = True
            reply = reply if reply or not self._is_termination_msg(message) else "exit"
        elif self._consecutive_auto_reply_counter[sender] >= self._max_consecutive_auto_reply_dict[sender]:
            terminate = self._is_termination_msg(message)
            reply = await self._ask_human(
                f"Please give feedback to {sender_name}. Press enter or type 'exit' to stop the conversation: "
                if terminate
                else f"Please give feedback to {sender_name}. Press enter to skip and use auto-reply, "
                "or type 'exit' to stop the conversation: "
            )
            asked = True
            reply = reply if reply or not terminate else "exit"
        elif self._is_termination_msg(message):
            reply = await self._ask_human(
                f"Please give feedback to {sender_name}. Press enter or type 'exit' to stop the conversation: "
            )
            asked = True
            reply = reply or "exit"
        if asked and not reply:
            events.emit(events.Notice(text="NO HUMAN INPUT RECEIVED."))
        if reply == "exit":
            events.emit(events.TerminationChecked(agent=self._name, reason="human_exit"))
            self._consecutive_auto_reply_counter[sender] = 0
            return True, None
        if reply or self._max_consecutive_auto_reply_dict[sender] == 0:
            self._consecutive_auto_reply_counter[sender] = 0
            # A human answer interrupts any pending calls: answer them so the history stays valid.
            tool_returns = []
            if message.get("function_call"):
                tool_returns.append(
                    {"role": "function", "name": message["function_call"].get("name", ""), "content": "USER INTERRUPTED"})
            if message.get("tool_calls"):
                tool_returns.extend(
                    {"role": "tool", "tool_call_id": call.get("id", ""), "content": "USER INTERRUPTED"}
                    for call in message["tool_calls"]
                )
            response: dict = {"role": "user", "content": reply}
            if tool_returns:
                response["tool_responses"] = tool_returns
            return True, response
        self._consecutive_auto_reply_counter[sender] += 1
        events.emit(events.Notice(text="USING AUTO REPLY..."))
        return False, None

    def _reply_function_call(self, messages: list[dict] | None = None, sender: Agent | None = None, config: Any = None) -> Any:
        """Execute a legacy ``function_call`` in the last message."""
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages:
            return False, None
        function_call = messages[-1].get("function_call")
        if not function_call:
            return False, None
        return self._run_function_call(function_call, len(messages))  # an unknown name gets the classic "not found" error reply

    async def _run_function_call(self, function_call: dict, position: int | None = None) -> tuple[bool, dict]:
        from ..tools import run_function_call

        return True, await run_function_call(function_call, self._function_map, agent=self._name, position=position)

    def _reply_tool_calls(self, messages: list[dict] | None = None, sender: Agent | None = None, config: Any = None) -> Any:
        """Execute the tool calls of the last message (concurrently) and answer with tool messages."""
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages:
            return False, None
        tool_calls = messages[-1].get("tool_calls")
        if not tool_calls:
            return False, None
        return self._run_tool_calls(tool_calls, len(messages))

    async def _run_tool_calls(self, tool_calls: list[dict], position: int | None = None) -> tuple[bool, dict]:
        from ..tools import run_tool_calls

        # position: where in the chat, so that a resume reuses a stored result (parley.side_effects)
        tool_returns = await run_tool_calls(tool_calls, self._function_map, agent=self._name, position=position)
        return True, {
            "role": "tool",
            "tool_responses": tool_returns,
            "content": "\n\n".join(content_str(r.get("content")) for r in tool_returns),
        }

    def _reply_code_execution(self, messages: list[dict] | None = None, sender: Agent | None = None, config: Any = None) -> Any:
        """Run the code blocks of the newest message (within ``last_n_messages``) that has any."""
        code_execution_config = config if config is not None else self._code_execution_config
        if code_execution_config is False:
            return False, None
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        last_n_messages = code_execution_config.get("last_n_messages", "auto")
        if last_n_messages == "auto":
            # Everything received since this agent last spoke.
            to_scan = 0
            for message in reversed(messages):
                if message.get("role") != "user":
                    break
                to_scan += 1
        elif isinstance(last_n_messages, int) and not isinstance(last_n_messages, bool) and last_n_messages >= 0:
            to_scan = last_n_messages
        else:
            raise ValueError(
                f"code_execution_config['last_n_messages'] must be a non-negative int or 'auto', got {last_n_messages!r}"
            )
        to_scan = min(len(messages), to_scan)
        if to_scan == 0:
            return False, None
        from ..code import extract_code_blocks

        for message in reversed(messages[-to_scan:]):
            if not message.get("content"):
                continue
            code_blocks = extract_code_blocks(message["content"])
            if code_blocks:
                return self._run_code_blocks(code_blocks, config, len(messages))
        return False, None

    async def _run_code_blocks(self, code_blocks: list, config: Any, position: int | None = None) -> tuple[bool, str]:
        from ..side_effects import run_code_blocks

        events.emit(events.CodeExecutionStarted(
            agent=self._name, blocks=len(code_blocks), languages=[b.language for b in code_blocks],
        ))
        executor = self.code_executor if config is None else _executor_for(config)
        # Run once across a crash and a resume: the result is committed to a recording run store
        # before it is used, and a resumed chat reuses it at the same point (parley.side_effects).
        result = await run_code_blocks(self._name, executor, code_blocks, position)
        status = "execution succeeded" if result.exit_code == 0 else "execution failed"
        # Classic's two texts: with an "executor" in the config the output follows "Code output: "
        # directly; the legacy path (no "executor": UserProxyAgent's default) puts it on a new line.
        execution_config = config if config is not None else self._code_execution_config
        legacy = not (isinstance(execution_config, dict) and "executor" in execution_config)
        output = "\n" + result.output if legacy else result.output
        return True, f"exitcode: {result.exit_code} ({status})\nCode output: {output}"

    def _reply_with_model(self, messages: list[dict] | None = None, sender: Agent | None = None, config: Any = None) -> Any:
        """Ask the model for a reply: its text, or the message dict when it calls tools."""
        client = self.client if config is None else config
        if client is None:
            return False, None
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        prompt = prompt_for(self._prompt_caches, self._oai_messages, sender, messages, self._oai_system_message[0])
        llm_config = self.llm_config
        if config is None and llm_config and (self.REPLY_PROTOCOL_BY_DEFAULT or "reply_protocol" in llm_config):
            # The reply protocol (agents.reply_protocol): the reply constrained to one shape. (Asked
            # only where it can apply: this test is on every model reply's path.)
            shapes = reply_protocol.applies(llm_config, self._oai_system_message[0]["content"], sender,
                                            by_default=self.REPLY_PROTOCOL_BY_DEFAULT)
            if shapes:
                return reply_protocol.constrained_reply(self, client, prompt, messages, shapes)
        return self._model_reply(client, prompt)

    async def _model_reply(self, client: Any, prompt: list[dict], response_format: dict | None = None,
                           params: dict | None = None) -> tuple[bool, str | dict | None]:
        if _conversation.caches_open or self.client_cache is not None:
            conversation = _current_conversation.get()
            cache = conversation.cache if conversation is not None else self.client_cache
        else:
            cache = None  # no chat has a cache, nor has this agent: no look-up needed to know
        if response_format is None and params is None:
            response = await client.a_create(prompt, agent=self._name, cache=cache)
        else:  # the reply protocol's call (agents.reply_protocol)
            response = await client.a_create(prompt, agent=self._name, cache=cache, response_format=response_format,
                                             params=params)
        return True, _reply_from_model_message(response.message)
