"""``ConversableAgent``: the classic agent, on parley's engine.

An agent keeps one message history per partner and answers a received message by walking its
reply chain (newest registered first; built-ins: termination & human check → function call →
tool calls → code execution → model reply; then ``default_auto_reply``).

The engine is async; every public sync method is a thin facade over its ``a_`` twin (see
``parley._sync``). A conversation is one iterative loop (``parley.chat.loop``): ``send`` never
recurses into ``receive``, so a 10,000-turn chat needs no deep stack, and each message costs
the same whatever the history length.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from time import time as _now
from typing import Any, Literal

from .. import events
from .. import images as _images
from .. import messages as _messages
from .._sync import run_sync, sync_twin
from ..chat.conversation import Conversation
from ..chat.conversation import current as _current_conversation
from ..chat.loop import converse, run_turns
from ..chat.participant import OwedHistory, Participant, Reply
from ..chat.result import ChatResult
from ..errors import InvalidCarryOverType, SenderRequired, UsageError
from ..events import MessageSent, ReplyChosen
from ..events import current_stream as _current_stream
from ..events import wanted_anywhere as _wanted_anywhere
from ..events import wanted_silent_anywhere as _wanted_silent_anywhere
from ..io import get_default as _iostream
from ..messages import content_str, message_to_dict, to_oai_message
from .agent import Agent, LLMAgent
from .builtin_replies import BuiltinReplies
from .prompt_cache import PromptCache

_current_chat = events.current_chat_id.get


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def carryover_text(item: Any) -> str:
    """One carryover entry as text: a summary string, or a message's content."""
    return content_str(item.get("content")) if isinstance(item, dict) else str(item)


def _reply_func_name(reply_func: Callable) -> str:
    return getattr(reply_func, "__name__", "reply_func")

HumanInputMode = Literal["ALWAYS", "TERMINATE", "NEVER"]
_HUMAN_INPUT_MODES = ("ALWAYS", "TERMINATE", "NEVER")
_HOOKABLE_METHODS = ("process_last_received_message", "process_all_messages_before_reply", "process_message_before_send",
                     "a_process_last_received_message", "a_process_all_messages_before_reply", "a_process_message_before_send")
_chat_ids = itertools.count(1)
next_chat_id = _chat_ids.__next__  # the engine's chat ids: unique in the process, whatever callers name chats


def _default_is_termination_msg(message: dict) -> bool:
    content = message.get("content")
    return content == "TERMINATE" if type(content) is str else content_str(content) == "TERMINATE"


class ConversableAgent(BuiltinReplies, LLMAgent, Participant):
    """An agent that converses with others through messages (classic AutoGen semantics)."""

    DEFAULT_CONFIG: Any = False  # no model unless configured
    MAX_CONSECUTIVE_AUTO_REPLY = 100
    DEFAULT_SUMMARY_PROMPT = "Summarize the takeaway from the conversation. Do not add any introductory phrases."
    DEFAULT_SUMMARY_METHOD = "last_msg"
    llm_config: dict | Literal[False]
    # Classic name: a message (str or dict) as this agent stores it; a subclass may reshape it
    # (MultimodalConversableAgent turns ``<img ...>`` tags into image parts).
    _message_to_dict = staticmethod(message_to_dict)
    _reshapes_messages = False  # whether a subclass gives _message_to_dict its own form (__init_subclass__)

    def __init__(
        self,
        name: str,
        system_message: str | list | None = "You are a helpful AI Assistant.",
        is_termination_msg: Callable[[dict], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        human_input_mode: HumanInputMode = "TERMINATE",
        function_map: dict[str, Callable] | None = None,
        code_execution_config: Mapping[str, Any] | Literal[False] = False,
        llm_config: dict | Literal[False] | None = None,
        default_auto_reply: str | dict = "",
        description: str | None = None,
        chat_messages: dict[Agent, list[dict]] | None = None,
        silent: bool | None = None,
    ) -> None:
        # A runtime-logging session records each agent with its arguments (classic `agents` table).
        runtime_logging = sys.modules.get("parley.runtime_logging")
        logged_args = (
            {k: v for k, v in locals().items() if k not in ("self", "runtime_logging", "__class__")}
            if runtime_logging is not None and runtime_logging.logging_enabled() else None
        )
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        if human_input_mode not in _HUMAN_INPUT_MODES:
            raise ValueError(f"human_input_mode must be one of {', '.join(_HUMAN_INPUT_MODES)}; got {human_input_mode!r}")
        if is_termination_msg is not None and not callable(is_termination_msg):
            raise TypeError("is_termination_msg must be callable (message dict -> bool), "
                            f"not {type(is_termination_msg).__name__}")
        limit = max_consecutive_auto_reply
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"max_consecutive_auto_reply must be a non-negative int or None, got {limit!r}")
        if code_execution_config is None:
            code_execution_config = False
        if code_execution_config is not False and not isinstance(code_execution_config, Mapping):
            raise TypeError(f"code_execution_config must be a dict or False, not {type(code_execution_config).__name__}")
        self._name = name
        self.silent = silent
        self._oai_messages: defaultdict[Agent, list[dict]] = defaultdict(list)
        if chat_messages is not None:
            self._oai_messages.update(chat_messages)
        self._oai_system_message = [{"content": system_message, "role": "system"}]
        default_description = system_message if isinstance(system_message, str) else ""
        self._description = description if description is not None else default_description
        self._is_termination_msg = is_termination_msg if is_termination_msg is not None else _default_is_termination_msg
        self._validate_llm_config(llm_config)
        # Classic: the cache of model calls made outside any chat (a direct generate_reply). A
        # chat's calls use the chat's cache (``Conversation.cache``); nothing is lent or swapped.
        self.client_cache: Any = None
        self.previous_cache: Any = None  # classic attribute, kept for scripts that read it
        self.human_input_mode = human_input_mode
        self._max_consecutive_auto_reply = (
            max_consecutive_auto_reply if max_consecutive_auto_reply is not None else self.MAX_CONSECUTIVE_AUTO_REPLY
        )
        self._consecutive_auto_reply_counter: defaultdict[Agent | None, int] = defaultdict(int)
        self._max_consecutive_auto_reply_dict: defaultdict[Agent | None, int] = defaultdict(self.max_consecutive_auto_reply)
        self._function_map: dict[str, Callable] = {}
        if function_map:
            self._function_map.update(function_map)
        self._default_auto_reply = default_auto_reply
        self._reply_func_list: list[dict] = []
        self._human_input: list[str] = []
        self.reply_at_receive: defaultdict[Agent, bool] = defaultdict(bool)
        self._code_execution_config: dict | Literal[False] = (
            dict(code_execution_config) if isinstance(code_execution_config, Mapping) else False
        )
        self._code_executor: Any = None
        self._prompt_caches: dict[Agent, PromptCache] = {}  # per peer (agents.prompt_cache)
        self._broadcast: OwedHistory | None = None  # a group chat in progress that owes this agent messages
        self._finished_chats: Any = None  # the results of its last chat queue (get_chat_results)
        self.hook_lists: dict[str, list[Callable]] = {name: [] for name in _HOOKABLE_METHODS}
        # One engine serves sync and async chats: a hook registered under the classic async name
        # (a_process_...) joins the same list and is awaited when it is a coroutine function.
        for hook_name in ("process_last_received_message", "process_all_messages_before_reply"):
            self.hook_lists["a_" + hook_name] = self.hook_lists[hook_name]
        self.a_send_hooks = self.hook_lists["a_process_message_before_send"]  # awaited by the loop before a delivery

        # Built-in reply chain, registered oldest first (the newest registered runs first).
        self.register_reply([Agent, None], ConversableAgent._reply_with_model)
        self.register_reply([Agent, None], ConversableAgent._reply_code_execution)
        self.register_reply([Agent, None], ConversableAgent._reply_tool_calls)
        self.register_reply([Agent, None], ConversableAgent._reply_function_call)
        self.register_reply([Agent, None], ConversableAgent._check_termination_and_human)
        if logged_args is not None and runtime_logging is not None:
            runtime_logging.log_new_agent(self, logged_args)

    # ----------------------------------------------------------------- configuration

    def _validate_llm_config(self, llm_config: dict | Literal[False] | None) -> None:
        if llm_config is None:
            llm_config = self.DEFAULT_CONFIG
        if llm_config is False:
            self.llm_config = False
            self.client = None
            return
        if not isinstance(llm_config, dict):
            raise TypeError(f"llm_config must be a dict, False or None, not {type(llm_config).__name__}")
        from ..models.wrapper import OpenAIWrapper

        # Copy so that tools registered on this agent don't leak into a dict shared with others.
        llm_config = dict(llm_config)
        if isinstance(llm_config.get("config_list"), list):
            llm_config["config_list"] = [dict(e) if isinstance(e, dict) else e for e in llm_config["config_list"]]
        if isinstance(llm_config.get("tools"), list):
            llm_config["tools"] = list(llm_config["tools"])
        self.client = OpenAIWrapper(**llm_config)
        self.llm_config = llm_config

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @description.setter
    def description(self, description: str) -> None:
        self._description = description

    @property
    def system_message(self) -> str | list | None:
        content: str | list | None = self._oai_system_message[0]["content"]
        return content

    def update_system_message(self, system_message: str) -> None:
        self._oai_system_message[0]["content"] = system_message

    @property
    def code_executor(self) -> Any:
        """The executor for ``code_execution_config``, created on first use."""
        if self._code_execution_config is False:
            return None
        if self._code_executor is None:
            from ..code import executor_from_config

            self._code_executor = executor_from_config(self._code_execution_config)
        return self._code_executor

    @property
    def code_execution_config(self) -> dict | Literal[False]:
        return self._code_execution_config

    @property
    def use_docker(self) -> bool | str | None:
        return None if self._code_execution_config is False else self._code_execution_config.get("use_docker")

    @property
    def function_map(self) -> dict[str, Callable]:
        return self._function_map

    def max_consecutive_auto_reply(self, sender: Agent | None = None) -> int:
        return self._max_consecutive_auto_reply if sender is None else self._max_consecutive_auto_reply_dict[sender]

    def update_max_consecutive_auto_reply(self, value: int, sender: Agent | None = None) -> None:
        if sender is None:
            self._max_consecutive_auto_reply = value
            for key in self._max_consecutive_auto_reply_dict:
                self._max_consecutive_auto_reply_dict[key] = value
        else:
            self._max_consecutive_auto_reply_dict[sender] = value

    @property
    def chat_messages(self) -> dict[Agent, list[dict]]:
        self._sync_histories()
        return self._oai_messages

    def chat_messages_for_summary(self, agent: Agent) -> list[dict]:
        self._sync_histories()
        return self._oai_messages[agent]

    def _sync_histories(self) -> None:
        """Bring histories a group chat in progress keeps lazily up to date (``groupchat.broadcast``)."""
        if self._broadcast is not None:
            self._broadcast.catch_up(self)

    def join_broadcast(self, owed: OwedHistory) -> None:
        self._broadcast = owed

    def leave_broadcast(self, owed: OwedHistory) -> None:
        if self._broadcast is owed:
            self._broadcast = None

    def extend_history(self, peer: Agent, messages: list[dict]) -> None:
        self._oai_messages[peer].extend(messages)

    def last_message(self, agent: Agent | None = None) -> dict | None:
        self._sync_histories()
        if agent is None:
            if not self._oai_messages:
                return None
            if len(self._oai_messages) > 1:
                raise ValueError("More than one conversation is found. Specify which conversation to use with agent=...")
            [conversation] = self._oai_messages.values()
            return conversation[-1] if conversation else None
        if agent not in self._oai_messages:
            raise KeyError(f"The agent {agent.name!r} is not present in any conversation of {self.name!r}.")
        conversation = self._oai_messages[agent]
        return conversation[-1] if conversation else None

    # ----------------------------------------------------------------- reply chain

    def register_reply(
        self,
        trigger: Any,
        reply_func: Callable,
        position: int = 0,
        config: Any = None,
        reset_config: Callable | None = None,
        *,
        ignore_async_in_sync_chat: bool = False,
        remove_other_reply_funcs: bool = False,
    ) -> None:
        """Add a reply function ``f(recipient, messages, sender, config) -> (final, reply)``.

        Sync and async functions both work in sync and async chats (``ignore_async_in_sync_chat``
        is accepted for compatibility and has nothing left to do).
        """
        if not isinstance(trigger, (type, str, Agent, list)) and trigger is not None and not callable(trigger):
            raise ValueError("trigger must be a class, a string, an agent, a callable, None or a list of these")
        if not callable(reply_func):
            raise TypeError(f"reply_func must be callable, not {type(reply_func).__name__}")
        if remove_other_reply_funcs:
            self._reply_func_list.clear()
        reply_func = _ASYNC_OF_SYNC.get(reply_func, reply_func)
        self._reply_func_list.insert(
            position,
            {
                "trigger": trigger,
                "reply_func": reply_func,
                "name": _reply_func_name(reply_func),  # what messages it produces say (MessageSent.produced_by)
                "config": config,
                "init_config": config,
                "reset_config": reset_config,
                # The built-ins' trigger matches everyone: skip matching on the hot path.
                "matches_all": trigger == [Agent, None],
            },
        )

    def replace_reply_func(self, old_reply_func: Callable, new_reply_func: Callable) -> None:
        old_reply_func = _ASYNC_OF_SYNC.get(old_reply_func, old_reply_func)
        for entry in self._reply_func_list:
            if entry["reply_func"] is old_reply_func:
                entry["reply_func"] = new_reply_func
                entry["name"] = _reply_func_name(new_reply_func)

    def reset(self) -> None:
        """Clear histories, counters and reply-function configs."""
        self.clear_history()
        self.reset_consecutive_auto_reply_counter()
        self.stop_reply_at_receive()
        if self.client is not None:
            self.client.clear_usage_summary()
        for entry in self._reply_func_list:
            if entry["reset_config"] is not None:
                entry["reset_config"](entry["config"])
            else:
                entry["config"] = entry["init_config"]

    def stop_reply_at_receive(self, sender: Agent | None = None) -> None:
        if sender is None:
            self.reply_at_receive.clear()
        else:
            self.reply_at_receive[sender] = False

    def reset_consecutive_auto_reply_counter(self, sender: Agent | None = None) -> None:
        if sender is None:
            self._consecutive_auto_reply_counter.clear()
        else:
            self._consecutive_auto_reply_counter[sender] = 0

    def clear_history(self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None) -> None:
        self._sync_histories()  # what a group chat still owes it is cleared too, not appended afterwards
        if recipient is None:
            if nr_messages_to_preserve:
                for key in self._oai_messages:
                    preserved = self._oai_messages[key][-nr_messages_to_preserve:]
                    if preserved and "tool_responses" in preserved[0] and len(self._oai_messages[key]) > len(preserved):
                        # Keep the tool call its responses answer: providers refuse a response without its call.
                        _iostream().print(f"Preserving one more message for {self._name} to not divide history "
                                          "between tool call and tool response.")
                        preserved = self._oai_messages[key][-nr_messages_to_preserve - 1:]
                    self._oai_messages[key].clear()
                    self._oai_messages[key].extend(preserved)
            else:
                self._oai_messages.clear()
                self._prompt_caches.clear()
        else:
            self._oai_messages[recipient].clear()
            self._prompt_caches.pop(recipient, None)

    def register_hook(self, hookable_method: str, hook: Callable) -> None:
        if hookable_method not in self.hook_lists:
            raise ValueError(f"{hookable_method!r} is not a hookable method; choose one of {', '.join(_HOOKABLE_METHODS)}")
        if hook in self.hook_lists[hookable_method]:
            raise ValueError(f"{getattr(hook, '__name__', hook)!r} is already registered as a hook for {hookable_method}")
        self.hook_lists[hookable_method].append(hook)

    @staticmethod
    def _match_trigger(trigger: Any, sender: Agent | None) -> bool:
        if trigger is None:
            return sender is None
        if isinstance(trigger, str):
            if sender is None:
                raise SenderRequired()  # classic: a name trigger cannot match a reply without a sender
            return trigger == sender.name
        if isinstance(trigger, type):
            return isinstance(sender, trigger)
        if isinstance(trigger, Agent):
            return trigger is sender
        if isinstance(trigger, list):
            return any(ConversableAgent._match_trigger(t, sender) for t in trigger)
        if callable(trigger):
            return bool(trigger(sender))
        raise ValueError(f"unsupported trigger type {type(trigger).__name__}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._reshapes_messages = cls._message_to_dict is not message_to_dict
        # A subclass that answers by its own a_generate_reply is asked through it by the loop too
        # (what produced its replies is then not known).
        own_generate_reply = cls.a_generate_reply is not ConversableAgent.a_generate_reply
        if own_generate_reply and cls.a_reply_with_origin is ConversableAgent.a_reply_with_origin:
            cls.a_reply_with_origin = ConversableAgent._a_reply_of_own_generate_reply  # type: ignore[method-assign]

    async def _a_reply_of_own_generate_reply(
        self, messages: list[dict] | None = None, sender: Agent | None = None, exclude: Iterable[Callable] = (),
    ) -> Reply:
        return await self.a_generate_reply(messages=messages, sender=sender, exclude=exclude), None

    async def a_generate_reply(
        self,
        messages: list[dict] | None = None,
        sender: Agent | None = None,
        exclude: Iterable[Callable] = (),
        **kwargs: Any,
    ) -> str | dict | None:
        """Walk the reply chain; the first final reply wins, else ``default_auto_reply``."""
        return (await ConversableAgent.a_reply_with_origin(self, messages, sender, exclude))[0]

    async def a_reply_with_origin(
        self, messages: list[dict] | None = None, sender: Agent | None = None, exclude: Iterable[Callable] = (),
    ) -> Reply:
        """``a_generate_reply``'s reply, with the name of the reply function that produced it."""
        if messages is None:
            if sender is None:
                raise UsageError("Either messages or sender must be provided.")
            messages = self._oai_messages[sender]
        # Classic order: the last message is edited first, then all messages (so a transform of
        # the whole history sees the edited last message).
        if self.hook_lists["process_last_received_message"]:
            messages = await self.a_process_last_received_message(messages)
        if self.hook_lists["process_all_messages_before_reply"]:
            messages = await self.a_process_all_messages_before_reply(messages)
        if exclude:
            exclude = {_ASYNC_OF_SYNC.get(f, f) for f in exclude}
        for entry in self._reply_func_list:
            reply_func = entry["reply_func"]
            if exclude and reply_func in exclude:
                continue
            if not entry["matches_all"] and not self._match_trigger(entry["trigger"], sender):
                continue
            result = reply_func(self, messages=messages, sender=sender, config=entry["config"])
            kind = type(result)
            if kind is not tuple:  # a coroutine, or classic's [final, reply] list
                result = result if kind is list else await result
            final, reply = result
            if final:
                if ReplyChosen in _wanted_anywhere and ReplyChosen in (stream := _current_stream()).wanted:
                    stream.emit(ReplyChosen(
                        agent=self._name, sender=sender.name if sender is not None else None, reply_func=entry["name"],
                        final=True,
                    ))
                return reply, entry["name"]
        if ReplyChosen in _wanted_anywhere and ReplyChosen in (stream := _current_stream()).wanted:
            stream.emit(ReplyChosen(
                agent=self._name, sender=sender.name if sender is not None else None, reply_func="default_auto_reply",
                final=False,
            ))
        return self._default_auto_reply, "default_auto_reply"

    generate_reply = sync_twin(a_generate_reply)

    # ----------------------------------------------------------------- hooks

    async def a_process_all_messages_before_reply(self, messages: list[dict]) -> list[dict]:
        for hook in self.hook_lists["process_all_messages_before_reply"]:
            messages = await _maybe_await(hook(messages))
        return messages

    process_all_messages_before_reply = sync_twin(a_process_all_messages_before_reply)

    async def a_process_last_received_message(self, messages: list[dict]) -> list[dict]:
        if not messages:
            return messages
        last = messages[-1]
        if "function_call" in last or "tool_calls" in last or "context" in last or last.get("role") == "tool":
            return messages
        content = last.get("content")
        text = content_str(content)
        processed = text
        for hook in self.hook_lists["process_last_received_message"]:
            processed = await _maybe_await(hook(processed))
        if processed == text:
            return messages
        # Copy: the stored history keeps what was actually received.
        return [*messages[:-1], {**last, "content": processed}]

    process_last_received_message = sync_twin(a_process_last_received_message)

    async def a_apply_send_hooks(self, message: dict | str, recipient: Agent, silent: bool) -> dict | str:
        """The async hooks (a_process_message_before_send); the loop awaits them before a delivery."""
        for hook in self.hook_lists["a_process_message_before_send"]:
            message = await _maybe_await(hook(sender=self, message=message, recipient=recipient, silent=silent))
        return message

    def _process_message_before_send(self, message: dict | str, recipient: Agent, silent: bool) -> dict | str:
        for hook in self.hook_lists["process_message_before_send"]:
            message = hook(sender=self, message=message, recipient=recipient, silent=silent)
        return message

    # ----------------------------------------------------------------- sending and receiving

    def deliver(self, message: dict | str, recipient: Agent, silent: bool, produced_by: str | None = None) -> None:
        """Store ``message`` on both sides and emit it: the whole of a send, without the reply.
        ``produced_by``: the reply function that made it (None: not a reply)."""
        if self.hook_lists["process_message_before_send"]:
            message = self._process_message_before_send(message, recipient, silent)
        message = message_to_dict(message)
        content = message.get("content")
        if content.__class__ is str and "<img" in content and (
                produced_by is None or produced_by == (self._reply_kinds()[0] or None)):
            # The local user wrote it (an initial message, a human reply): its <img path> tags may
            # read local files; a model's or a peer's may not (images.local_images).
            _images.note_user_text(content)
        # The sender's copy in its own form (a multimodal agent's images as parts); the
        # recipient makes its own from the message as sent (classic).
        sent = to_oai_message(self._message_to_dict(message) if self._reshapes_messages else message, "assistant", self._name)
        if sent is None:
            raise ValueError(
                "Message can't be converted into a valid ChatCompletion message. "
                "Either content or function_call must be provided."
            )
        self._oai_messages[recipient].append(sent)
        if not isinstance(recipient, ConversableAgent):  # an agent of the classic Agent protocol: it receives
            receive = getattr(recipient, "receive", None)
            if receive is not None:
                receive(message, self, False, silent)
            else:
                run_sync(getattr(recipient, "a_receive")(message, self, False, silent))  # noqa: B009 (not on Agent)
            return
        recipient.accept(message, self, silent, produced_by)

    def _append_oai_message(self, message: dict | str, role: str, conversation_id: Agent, is_sending: bool) -> bool:
        """Classic name: store ``message`` in the history with ``conversation_id`` as ``role``
        (its ``override_role`` wins), named for its sender; False when it has nothing to store."""
        stored = to_oai_message(self._message_to_dict(message), role, self._name if is_sending else conversation_id.name)
        if stored is None:
            return False
        self._oai_messages[conversation_id].append(stored)
        return True

    def accept(self, message: dict, sender: Agent, silent: bool, produced_by: str | None = None) -> None:
        sender_name = sender._name if isinstance(sender, ConversableAgent) else sender.name
        received = to_oai_message(message, "user", sender_name)
        if received is None:
            raise ValueError(
                "Received message can't be converted into a valid ChatCompletion message. "
                "Either content or function_call must be provided."
            )
        self._oai_messages[sender].append(received)
        if self.silent is not None:
            silent = self.silent
        if MessageSent not in (_wanted_silent_anywhere if silent else _wanted_anywhere):
            return
        stream = _current_stream()
        publish = (stream.publishers_silent if silent else stream.publishers)[MessageSent]
        if publish is not None:
            # The event's record (see events): with only the run store listening, one tuple and its log's extend.
            # The event's record (events.record_layout): type, time, then MessageSent's fields in declaration
            # order; a tuple display, since any call here costs on every message (tests/core/test_event_records.py
            # checks each field lands where the class declares it).
            publish((MessageSent, _now(), sender_name, self._name, received, silent, _current_chat(), produced_by))

    async def a_send(
        self, message: dict | str, recipient: Agent, request_reply: bool | None = None, silent: bool | None = False
    ) -> None:
        """Send a message; if the recipient replies, the conversation goes on until one side stops."""
        await converse(self, recipient, message, request_reply, bool(silent))

    send = sync_twin(a_send)

    async def a_receive(
        self, message: dict | str, sender: Agent, request_reply: bool | None = None, silent: bool | None = False
    ) -> None:
        """Take a message from ``sender`` (without storing it on the sender's side) and maybe reply."""
        await converse(sender, self, message, request_reply, bool(silent), sender_stores=False)

    receive = sync_twin(a_receive)

    # ----------------------------------------------------------------- human input

    def get_human_input(self, prompt: str) -> str:
        """Ask the human through the current IOStream (override to get input elsewhere)."""
        return _iostream().input(prompt)

    async def a_get_human_input(self, prompt: str) -> str:
        stream = _iostream()
        if type(self).get_human_input is ConversableAgent.get_human_input and hasattr(stream, "a_input"):
            return await stream.a_input(prompt)
        return self.get_human_input(prompt)

    async def _ask_human(self, prompt: str, *, opening: bool = False) -> str:
        events.emit(events.HumanInputRequested(agent=self._name, prompt=prompt))
        try:
            reply = await self.a_get_human_input(prompt)
        except EOFError:
            if opening:
                # No opening message: nothing to send (classic raises here too; "exit" would go to the model).
                raise EOFError("no human input available for the chat's opening message (end of input)") from None
            # No one can answer (closed stdin, exhausted script): end the chat rather than crash.
            events.emit(events.Notice(text="no human input available (end of input): ending the conversation", level="warning"))
            reply = "exit"
        reply = reply.strip() if isinstance(reply, str) else ""
        self._human_input.append(reply)
        conversation = _current_conversation.get()
        if conversation is not None and conversation.initiator is self:
            conversation.human_input.append(reply)  # this chat's result; the agent's list spans its chats
        events.emit(events.HumanInputReceived(agent=self._name, reply=reply))
        return reply

    # ----------------------------------------------------------------- chats

    def _prepare_chat(
        self, recipient: ConversableAgent, clear_history: bool, prepare_recipient: bool = True, reply_at_receive: bool = True
    ) -> None:
        self.reset_consecutive_auto_reply_counter(recipient)
        self.reply_at_receive[recipient] = reply_at_receive
        if clear_history:
            self.clear_history(recipient)
            self._human_input = []
        if prepare_recipient:
            recipient._prepare_chat(self, clear_history, False, reply_at_receive)

    def prepare_chat_side(self, peer: Agent, clear_history: bool, reply_at_receive: bool) -> None:
        assert isinstance(peer, ConversableAgent)
        self._prepare_chat(peer, clear_history, False, reply_at_receive)  # classic subclasses may override _prepare_chat

    async def a_generate_init_message(self, message: dict | str | None, **kwargs: Any) -> str | dict:
        if message is None:
            message = await self._ask_human(">", opening=True)
        return self._with_carryover(message, kwargs)

    generate_init_message = sync_twin(a_generate_init_message)

    @staticmethod
    def _with_carryover(message: dict | str, kwargs: dict) -> dict | str:
        carryover = kwargs.get("carryover")
        if not carryover:
            return message
        if isinstance(carryover, list):
            carryover = "\n".join(carryover_text(c) for c in carryover)
        elif not isinstance(carryover, str):
            raise InvalidCarryOverType(f"carryover must be a str or a list, not {type(carryover).__name__}")
        if isinstance(message, str):
            return message + "\nContext: \n" + carryover
        message = dict(message)
        if isinstance(message.get("content"), list):  # multimodal: the context comes first, as a text part
            message["content"] = [{"type": "text", "text": "\nContext: \n" + carryover}, *message["content"]]
        else:
            message["content"] = content_str(message.get("content")) + "\nContext: \n" + carryover
        return message

    # Classic names of the same step: a message (or, for _process_carryover, a text) with the carryover appended.
    def _handle_carryover(self, message: dict | str, kwargs: dict) -> dict | str:
        return self._with_carryover(message, kwargs)

    def _process_carryover(self, content: dict | str, kwargs: dict) -> dict | str:
        return self._with_carryover(content, kwargs)

    async def a_initiate_chat(
        self,
        recipient: ConversableAgent,
        clear_history: bool = True,
        silent: bool | None = False,
        cache: Any = None,
        max_turns: int | None = None,
        summary_method: str | Callable | None = DEFAULT_SUMMARY_METHOD,
        summary_args: dict | None = None,
        message: dict | str | Callable | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Start a chat with ``recipient``; returns its ChatResult when one side stops."""
        from ..chat.summary import summarize_chat, validate_summary_method

        validate_summary_method(summary_method)
        if message is not None and not isinstance(message, (str, dict)) and not callable(message):
            raise TypeError(f"message must be a str, a dict, a callable or None, not {type(message).__name__}")
        if max_turns is not None and (not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 0):
            raise ValueError(f"max_turns must be a non-negative int or None, got {max_turns!r}")
        if not isinstance(recipient, ConversableAgent):
            raise TypeError(f"recipient must be an agent, not {type(recipient).__name__}")
        kwargs.pop("sender", None)
        kwargs.pop("recipient", None)
        silent = bool(silent)
        named = kwargs.pop("chat_id", None)  # the caller's name for it (classic chat queues), put on the result
        chat_id = next_chat_id()
        chat_info = {"sender": self, "recipient": recipient, "message": message, "max_turns": max_turns, **kwargs}
        reason = "completed"
        conversation = Conversation(chat_id, self, recipient, cache=cache, silent=silent,
                                    message=message if not callable(message) else None, max_turns=max_turns)
        with conversation:
            if max_turns is not None:
                self._prepare_chat(recipient, clear_history, reply_at_receive=False)
                # Each turn starts with a message of this agent: the opening one, then its replies.
                reason = "max_turns"
                if max_turns > 0:
                    # A callable gets the carryover in its context and its message is sent as it is (classic).
                    msg = (message(self, recipient, chat_info) if callable(message)
                           else await self.a_generate_init_message(message, **kwargs))
                    if msg is None:
                        reason = "completed"
                    else:
                        await converse(self, recipient, msg, True, silent)
                        reason = await run_turns(self, recipient, 1, max_turns, silent)
            else:
                self._prepare_chat(recipient, clear_history)
                if callable(message):
                    msg = message(self, recipient, chat_info)
                else:
                    msg = await self.a_generate_init_message(message, **kwargs)
                await converse(self, recipient, msg, None, silent)
            summary = await summarize_chat(self, recipient, summary_method, summary_args or {}, cache)
        result = conversation.finish(reason, summary)
        if named is not None:
            result.chat_id = named
        return result

    initiate_chat = sync_twin(a_initiate_chat)

    async def a_initiate_chats(self, chat_queue: list[dict]) -> dict[Any, ChatResult]:
        """Classic async: the chats at once, each after its ``prerequisites``; {chat_id: result}."""
        from ..chat.sequential import a_initiate_chats

        self._finished_chats = await a_initiate_chats([{**chat, "sender": self} for chat in chat_queue])
        return self._finished_chats

    def initiate_chats(self, chat_queue: list[dict]) -> list[ChatResult]:
        """The chats in order, each carrying the earlier ones' summaries; their results."""
        from ..chat.sequential import initiate_chats

        self._finished_chats = initiate_chats([{**chat, "sender": self} for chat in chat_queue])
        return self._finished_chats

    def get_chat_results(self, chat_index: Any = None) -> Any:
        """Classic: the results of the last ``initiate_chats`` / ``a_initiate_chats`` (one by index or id)."""
        finished = self._finished_chats
        if finished is None:
            raise RuntimeError(f"{self._name!r} has run no chat queue yet (initiate_chats)")
        return finished if chat_index is None else finished[chat_index]

    def register_nested_chats(
        self,
        chat_queue: list[dict],
        trigger: Any,
        reply_func_from_nested_chats: str | Callable = "summary_from_nested_chats",
        position: int = 2,
        use_async: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """When ``trigger`` matches the sender, run ``chat_queue`` as sequential chats and reply with
        the last chat's summary (or what ``reply_func_from_nested_chats`` returns)."""
        from ..chat.nested import nested_chats_reply

        if use_async:  # classic: async nested chats run as a_initiate_chats, which orders them by chat_id
            for i, chat in enumerate(chat_queue):
                if chat.get("chat_id") is None:
                    raise ValueError(f"chat_id is required for async nested chats: chat_queue[{i}] has none")
        if reply_func_from_nested_chats == "summary_from_nested_chats":
            reply_func_from_nested_chats = nested_chats_reply
        if not callable(reply_func_from_nested_chats):
            raise ValueError("reply_func_from_nested_chats must be 'summary_from_nested_chats' or a callable")
        inner = reply_func_from_nested_chats

        def nested_chats(recipient: ConversableAgent, messages: list[dict] | None = None, sender: Agent | None = None,
                         config: Any = None) -> Any:
            return inner(chat_queue, recipient, messages, sender, config)

        nested_chats.__name__ = "nested_chats"
        self.register_reply(trigger, nested_chats, position, kwargs.get("config"), kwargs.get("reset_config"))

    # ----------------------------------------------------------------- resuming a stored run
    #
    # The run store keeps each delivered message (the receiver's copy) and the reply function
    # that produced it; these put an agent's side of a stored chat back as the deliveries left
    # it, emitting nothing (``parley.store.resume`` plans, the chat and group-chat code continue).

    def prepare_resumed_chat(self, recipient: Agent, reply_at_receive: bool) -> None:
        """Both sides' per-peer state as a new chat with ``recipient`` starts it (histories cleared)."""
        assert isinstance(recipient, ConversableAgent)
        self._prepare_chat(recipient, clear_history=True, reply_at_receive=reply_at_receive)

    def restore_delivery(self, recipient: Agent, received: dict, produced_by: str | None) -> None:
        """A stored message this agent sent to ``recipient`` (the recipient's copy): back into both
        histories, and the auto-reply counter change it caused on this side replayed."""
        assert isinstance(recipient, ConversableAgent)
        _messages.note_stored(received)  # both copies go into histories without to_oai_message, which counts them
        recipient._oai_messages[self].append(received)
        sent = {**received, "role": "assistant"} if received.get("role") == "user" else dict(received)  # the sender's copy
        self._oai_messages[recipient].append(sent)
        human_reply, auto_replies = self._reply_kinds()
        content = received.get("content")
        if content.__class__ is str and "<img" in content and (produced_by is None or produced_by == (human_reply or None)):
            _images.note_user_text(content)  # as deliver does: a resumed chat's user messages keep their images
        if produced_by in auto_replies:
            self._consecutive_auto_reply_counter[recipient] += 1
        elif produced_by == human_reply:
            self._consecutive_auto_reply_counter[recipient] = 0

    def restore_human_input(self, replies: list[str]) -> None:
        """What the human typed for this agent in the stored chat (``ChatResult.human_input``)."""
        self._human_input = list(replies)

    @property
    def human_input(self) -> list[str]:
        """What the human typed for this agent in its chats (since the last one that cleared its history)."""
        return self._human_input

    def _reply_kinds(self) -> tuple[str, frozenset]:
        """Which reply-function names mean "a human answered" and which "an auto-reply" here.

        The termination check counts consecutive auto-replies: a reply produced by a function after
        it in the chain (or ``default_auto_reply``) is one; a reply produced by the check itself is
        a human answer, which restarts the count.
        """
        entries = self._reply_func_list
        chain = [entry["reply_func"] for entry in entries]
        check = ConversableAgent._check_termination_and_human
        if check not in chain:
            return "", frozenset()
        at = chain.index(check)
        return entries[at]["name"], frozenset(entry["name"] for entry in entries[at + 1:]) | {"default_auto_reply"}

    # ----------------------------------------------------------------- models and tools

    def register_model_client(self, model_client_cls: type, **kwargs: Any) -> None:
        if self.client is None:
            raise ValueError(f"agent {self._name!r} has no llm_config: "
                             f"give one naming model_client_cls={model_client_cls.__name__!r}")
        self.client.register_model_client(model_client_cls, **kwargs)

    def register_function(self, function_map: dict[str, Callable | None]) -> None:
        """Add (or, with None, remove) functions this agent executes."""
        for name, func in function_map.items():
            if func is None:
                self._function_map.pop(name, None)
            elif not callable(func):
                raise TypeError(f"function_map[{name!r}] must be callable, not {type(func).__name__}")
            else:
                if name in self._function_map:  # classic: re-running a notebook cell re-registers
                    warnings.warn(f"Function '{name}' is being overridden.", UserWarning, stacklevel=2)
                self._function_map[name] = func

    def update_tool_signature(self, tool_sig: str | dict, is_remove: bool) -> None:
        """Add a tool schema to (or remove one by name from) this agent's llm_config."""
        self._update_signatures("tools", tool_sig, is_remove, lambda schema: schema["function"]["name"])

    def update_function_signature(self, func_sig: str | dict, is_remove: bool) -> None:
        """Classic legacy API: add a function schema to (or remove one by name from) the
        llm_config's ``functions``; the model is offered it as a tool."""
        self._update_signatures("functions", func_sig, is_remove, lambda schema: schema["name"])

    def _update_signatures(self, key: str, signature: str | dict, is_remove: bool, name_of: Callable[[dict], str]) -> None:
        from ..models.wrapper import legacy_functions, offered_tools

        if self.client is None or self.llm_config is False:
            raise UsageError(f"To update a tool signature, agent must have an llm_config (agent {self._name!r} has none, "
                             "so it cannot propose tool calls)")
        schemas = list(self.llm_config.get(key) or [])
        if is_remove:
            name = signature if isinstance(signature, str) else name_of(signature)
            schemas = [s for s in schemas if name_of(s) != name]
        else:
            if not isinstance(signature, dict):
                raise TypeError(f"a tool signature to add must be a dict (a JSON schema), not {type(signature).__name__}")
            name = name_of(signature)
            if any(name_of(s) == name for s in schemas):  # classic: the new one replaces it, with a warning
                warnings.warn(f"Function '{name}' is being overridden.", UserWarning, stacklevel=3)
                schemas = [s for s in schemas if name_of(s) != name]
            schemas.append(signature)
        if schemas:
            self.llm_config[key] = schemas
        else:
            self.llm_config.pop(key, None)
        self.client.tools = offered_tools(self.llm_config)
        self.client.functions = legacy_functions(self.llm_config)

    def can_execute_function(self, name: list[str] | str) -> bool:
        """Classic: whether this agent's function_map has the function(s)."""
        names = name if isinstance(name, list) else [name]
        return all(n in self._function_map for n in names)

    async def a_execute_function(self, func_call: dict, verbose: bool = False) -> tuple[bool, dict]:
        """Classic: run a ``function_call`` with this agent's function_map; whether it succeeded,
        and the function message answering it (errors are its content)."""
        from ..tools.execution import execute_function_call

        return await execute_function_call(func_call, self._function_map, agent=self._name)

    execute_function = sync_twin(a_execute_function)

    def register_for_llm(self, *, name: str | None = None, description: str | None = None, api_style: str = "tool") -> Callable:
        """Decorator: describe the function to this agent's model as a tool it may call."""
        if self.client is None:
            raise UsageError(f"To update a tool signature, agent must have an llm_config (agent {self._name!r} has none, "
                             "so it cannot propose tool calls)")
        if api_style not in ("tool", "function"):
            raise ValueError(f"api_style must be 'tool' or 'function', got {api_style!r}")

        def decorator(func: Callable) -> Callable:
            from ..tools import Tool

            # Stacked decorators: an inner one's name and description (and the docstring) serve when none is given.
            described = description or getattr(func, "_description", None) or inspect.getdoc(func)
            tool_name = name or getattr(func, "_name", None)
            if not isinstance(func, Tool) and not described:
                error = ValueError("Function description is required, none found.")  # classic's text
                error.add_note(f"function {tool_name or func.__name__!r} has no description; pass description=\"...\" "
                               "(or give it a docstring) so the model knows when to call it")
                raise error
            tool = func if isinstance(func, Tool) else Tool(func, name=tool_name, description=described)
            if api_style == "function":  # classic legacy: offered through llm_config["functions"]
                self.update_function_signature(tool.schema["function"], is_remove=False)
            else:
                self.update_tool_signature(tool.schema, is_remove=False)
            if tool is not func:
                # Classic: the function itself comes back, marked with its tool name, so that
                # a stacked @register_for_execution() registers it under the same name.
                func._name = tool.name  # type: ignore[attr-defined]
                func._description = tool.description  # type: ignore[attr-defined]
            return func

        return decorator

    @staticmethod
    def _format_json_str(jstr: str) -> str:
        """Classic name of :func:`parley.tools.function_utils.format_json_str`."""
        from ..tools.function_utils import format_json_str

        return format_json_str(jstr)

    @staticmethod
    def _wrap_function(func: Callable) -> Callable:
        """Classic name: ``func`` as this agent's function_map keeps it (``_origin`` is ``func``)."""
        from ..tools.function_utils import wrap_function

        return wrap_function(func)

    def register_for_execution(self, name: str | None = None) -> Callable:
        """Decorator: this agent executes the function when a model calls it."""

        def decorator(func: Callable) -> Callable:
            from ..tools import Tool

            if isinstance(func, Tool):
                self.register_function({name or func.name: func})
                return func
            # Classic: the name given here also serves decorators stacked above this one.
            if name:
                func._name = name  # type: ignore[attr-defined]
            tool_name = name or getattr(func, "_name", None) or func.__name__
            if not hasattr(func, "_name"):
                func._name = tool_name  # type: ignore[attr-defined]
            self.register_function({tool_name: self._wrap_function(func)})
            return func

        return decorator

    # ----------------------------------------------------------------- usage

    def print_usage_summary(self, mode: str | list[str] | tuple[str, ...] = ("actual", "total")) -> None:
        from ..usage import print_usage

        if self.client is None:
            _iostream().print(f"No cost incurred from agent '{self._name}'.")
        else:
            _iostream().print(f"Agent '{self._name}':")
            print_usage(self.client.actual_usage_summary, self.client.total_usage_summary, mode)

    def get_actual_usage(self) -> dict | None:
        return None if self.client is None else self.client.actual_usage_summary

    def get_total_usage(self) -> dict | None:
        return None if self.client is None else self.client.total_usage_summary

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"


async def _settled(result: Any) -> Any:
    return result if type(result) is tuple else await result


# The built-in replies' classic public names, each an async and a sync face over the one
# implementation the reply chain runs: made from this table rather than written out in pairs.
_BUILTIN_REPLIES: dict[str, Callable] = {
    "check_termination_and_human_reply": ConversableAgent._check_termination_and_human,
    "generate_function_call_reply": ConversableAgent._reply_function_call,
    "generate_tool_calls_reply": ConversableAgent._reply_tool_calls,
    "generate_code_execution_reply": ConversableAgent._reply_code_execution,
    "generate_oai_reply": ConversableAgent._reply_with_model,
}


def _faces(name: str, impl: Callable) -> tuple[Callable, Callable]:
    async def a_face(self: ConversableAgent, messages: list[dict] | None = None, sender: Agent | None = None,
                     config: Any = None) -> tuple[bool, Any]:
        return await _settled(impl(self, messages, sender, config))

    def face(self: ConversableAgent, messages: list[dict] | None = None, sender: Agent | None = None,
             config: Any = None) -> tuple[bool, Any]:
        return run_sync(a_face(self, messages, sender, config))

    for function, public in ((a_face, "a_" + name), (face, name)):
        function.__name__, function.__qualname__ = public, f"ConversableAgent.{public}"
        function.__doc__ = f"Classic ``{public}``: the built-in reply ``{impl.__name__}`` as a reply function."
    return a_face, face


# Users name built-ins by their classic names (exclude=, replace_reply_func, register_reply);
# the chain stores the implementations.
_ASYNC_OF_SYNC: dict[Callable, Callable] = {}
for _name, _impl in _BUILTIN_REPLIES.items():
    for _face in _faces(_name, _impl):
        setattr(ConversableAgent, _face.__name__, _face)
        _ASYNC_OF_SYNC[_face] = _impl

