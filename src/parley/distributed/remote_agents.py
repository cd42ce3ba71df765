"""Remote agents: one agent of a chat living in a Ray actor, placed by resources, while the
conversation loop stays with the caller.

``remote(factory, resources={"gpu_box": 1})`` makes the agent in an actor (``num_cpus=0``: it
waits on its model and tools) and returns a ``RemoteAgent``: a local ``ConversableAgent`` that
keeps the chat's histories here, as any member of a two-agent or group chat does, and asks the
actor for each of its replies with plain message dicts. The agent's reply functions, model
client, tools and code executor run in the actor. What the actor's agent reports while replying
(model calls, tool calls, code executions) is sent back with the reply and emitted here, so the
console, the run store and telemetry see it as they would for a local agent.

The actor keeps nothing a reply depends on: each call carries the history, the agent's
consecutive-auto-reply count for that peer and its system message (``update_system_message`` on
the caller's side applies there). So when the actor dies mid-reply, Ray restarts it
(``max_restarts``: the factory runs again) and the same reply is asked again; the chat goes on.

Imported, and Ray with it, only when ``remote`` is called."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import events
from ..agents.conversable import ConversableAgent
from ..chat.participant import Reply
from ..errors import ParleyError, UsageError
from ..usage import usage_summary


class RemoteAgentError(ParleyError, RuntimeError):
    """A remote agent could not be made, or died more often than it may be restarted."""


# What an actor's agent reports while replying that is sent back and emitted by the caller. Not
# MessageSent and the chat events (a nested chat run inside the actor is the actor's business),
# not SideEffectRecorded (a recorded side effect is reused only where it was made), not the full
# request log (ModelCallLogged: as large as the chat) or streamed tokens.
FORWARDED_EVENTS: tuple[type[events.Event], ...] = (
    events.ModelCallStarted, events.ModelCalled, events.ToolCalled, events.CodeExecutionStarted,
    events.CodeExecuted, events.ReplyChosen, events.TerminationChecked, events.Notice,
)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("remote agents run on Ray: pip install 'parley[ray]'") from None
    return ray


def join_ray(address: str | None) -> Any:
    """Ray, initialised (at ``address``; None: Ray's default) unless it already is."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray


def _factory_of(factory: Callable[..., Any] | str) -> Callable[..., Any]:
    if callable(factory):
        return factory
    module_name, _, function_name = factory.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


class AgentHost:
    """The Ray actor holding a remote agent: makes it once (again after a restart) and answers
    the caller's reply requests with it."""

    def __init__(self, factory: Callable[..., Any] | str, args: tuple, kwargs: dict) -> None:
        from ..groupchat.manager import GroupChatManager

        agent = _factory_of(factory)(*args, **kwargs)
        if not isinstance(agent, ConversableAgent):
            raise TypeError(f"a remote agent's factory must return a ConversableAgent, got {type(agent).__name__}")
        if isinstance(agent, GroupChatManager):
            raise TypeError("a GroupChatManager runs its group chat's loop, which stays with the caller: it can't be remote")
        if agent.human_input_mode != "NEVER":
            raise ValueError(f"remote agent {agent.name!r}: human_input_mode must be 'NEVER' (no one can type into an "
                             f"actor), got {agent.human_input_mode!r}")
        self.agent = agent
        # Stand-ins for the caller's agents, one per name: reply functions see a sender with the
        # right name, and class triggers (Agent, ConversableAgent) match it.
        self.peers: dict[str, ConversableAgent] = {}

    def card(self) -> dict:
        """What the caller's side shows of the agent (the group chat's speaker selection reads it)."""
        agent = self.agent
        return {"name": agent.name, "description": agent.description, "system_message": agent.system_message,
                "functions": sorted(agent.function_map), "has_model": agent.client is not None,
                "default_auto_reply": agent._default_auto_reply, "pid": os.getpid()}

    def pid(self) -> int:
        return os.getpid()

    def _peer(self, name: str) -> ConversableAgent:
        if name not in self.peers:
            self.peers[name] = ConversableAgent(name, llm_config=False, human_input_mode="NEVER", default_auto_reply="")
        return self.peers[name]

    async def reply(self, messages: list[dict], peer: str | None, auto_replies: int, chat_id: int | None,
                    exclude: list[Callable[..., Any] | str], system_message: str | list | None) -> dict:
        """The agent's reply to ``messages`` from ``peer``; ``auto_replies``: its consecutive
        auto replies to that peer so far, ``system_message`` its system message (the caller keeps
        both, so a restarted actor continues with them)."""
        agent = self.agent
        if system_message != agent.system_message and isinstance(system_message, str):
            agent.update_system_message(system_message)  # the caller's update_system_message
        sender = self._peer(peer) if peer is not None else None
        counters = agent._consecutive_auto_reply_counter  # carried by the caller: see the module's doc
        if sender is not None:
            counters[sender] = auto_replies
        names = {item for item in exclude if isinstance(item, str)}
        excluded = [item for item in exclude if callable(item)]
        excluded += [entry["reply_func"] for entry in agent._reply_func_list if entry["name"] in names]
        stream = events.EventStream()
        reported: list[events.Event] = []
        stream.add_sink(reported.append, FORWARDED_EVENTS)
        token = events.current_chat_id.set(chat_id)  # the events name the caller's chat
        try:
            with events.use_stream(stream):
                reply, produced_by = await agent.a_reply_with_origin(messages, sender, excluded)
        finally:
            events.current_chat_id.reset(token)
        return {"reply": reply, "produced_by": produced_by, "auto_replies": counters[sender] if sender is not None else 0,
                "events": reported, "usage": self.usage()}

    def usage(self) -> tuple[dict | None, dict | None]:
        client = self.agent.client
        return (None, None) if client is None else (client.total_usage_summary, client.actual_usage_summary)

    def clear_usage(self) -> None:
        if self.agent.client is not None:
            self.agent.client.clear_usage_summary()

    async def create(self, messages: list[dict], options: dict) -> dict:
        """A call of the agent's model outside its reply chain (a reflection summary): the message."""
        if self.agent.client is None:
            raise ValueError(f"remote agent {self.agent.name!r} has no model")
        response = await self.agent.client.a_create(messages, **options)
        return dict(response.message)


@dataclass
class _Response:
    message: dict


class RemoteModelClient:
    """The remote agent's model as the caller sees it: its usage (as of its last reply), and
    direct calls (``reflection_with_llm`` summaries) made in the actor."""

    def __init__(self, agent: RemoteAgent) -> None:
        self._agent = agent
        self.total_usage_summary: dict | None = None
        self.actual_usage_summary: dict | None = None

    async def a_create(self, messages: list[dict], cache: Any = None, **options: Any) -> _Response:
        # The chat's cache is the caller's object: the actor's model call does without it.
        options = {key: value for key, value in options.items() if isinstance(value, (str, int, float, bool, type(None)))}
        message = await self._agent._call("create", list(messages), options)
        self._agent._refresh_usage(await self._agent._call("usage"))
        return _Response(message)

    def clear_usage_summary(self) -> None:
        self.total_usage_summary = self.actual_usage_summary = None
        self._agent._usage_before_restart = None
        self._agent.actor.clear_usage.remote()

    def add_stored_usage(self, calls: Iterable[Any]) -> None:
        """Count the model calls a run store holds for this agent (resuming a run: the actor is
        new), as ``OpenAIWrapper.add_stored_usage`` does."""
        from ..models.wrapper import usage_of_calls

        stored = usage_of_calls(calls, self.total_usage_summary, self.actual_usage_summary)
        self.total_usage_summary, self.actual_usage_summary = stored
        self._agent._usage_before_restart = stored  # what the actor reports from now on is added to it

    def print_usage_summary(self, mode: str | list[str] | tuple[str, ...] = ("actual", "total")) -> None:
        from ..usage import print_usage

        print_usage(self.actual_usage_summary, self.total_usage_summary, mode)


class RemoteAgent(ConversableAgent):
    """The caller's side of an agent living in a Ray actor (made by ``remote``).

    Its histories, per-peer state and the messages it sends are kept and emitted here, so it
    takes part in chats as a local agent does; its replies come from the actor. A reply cut off
    by the actor's death is asked again of the restarted actor, up to ``max_retries`` times."""

    def __init__(self, actor: Any, card: dict, *, max_retries: int, factory: str) -> None:
        super().__init__(card["name"], system_message=card["system_message"], description=card["description"],
                         llm_config=False, human_input_mode="NEVER", code_execution_config=False,
                         default_auto_reply=card["default_auto_reply"])
        self.actor = actor
        self.factory = factory
        self.max_retries = max_retries
        self.client = RemoteModelClient(self) if card["has_model"] else None
        self._remote_functions = tuple(card["functions"])
        self._auto_replies: dict[str, int] = {}  # per peer name: the remote agent's consecutive auto replies
        self._usage_seen: tuple[dict | None, dict | None] = (None, None)  # as the live actor last reported it
        self._usage_before_restart: tuple[dict | None, dict | None] | None = None
        self.retries = 0
        """Replies asked again after the actor died (for tools and tests)."""

    @property
    def function_map(self) -> dict[str, Callable]:
        """The functions the remote agent executes (a group chat routes function calls by these
        names); they run in the actor, not here."""
        return {name: _runs_remotely(self.name, name) for name in self._remote_functions}

    def reset_consecutive_auto_reply_counter(self, sender: Any = None) -> None:
        super().reset_consecutive_auto_reply_counter(sender)
        if sender is None:
            self._auto_replies.clear()
        else:
            self._auto_replies.pop(sender.name, None)

    async def a_generate_reply(self, messages: list[dict] | None = None, sender: Any = None,
                               exclude: Iterable[Callable] = (), **kwargs: Any) -> str | dict | None:
        return (await self.a_reply_with_origin(messages, sender, exclude))[0]

    async def a_reply_with_origin(self, messages: list[dict] | None = None, sender: Any = None,
                                  exclude: Iterable[Callable] = ()) -> Reply:
        if messages is None:
            if sender is None:
                raise UsageError("Either messages or sender must be provided.")
            messages = self._oai_messages[sender]
        if self.hook_lists["process_last_received_message"]:
            messages = await self.a_process_last_received_message(messages)
        if self.hook_lists["process_all_messages_before_reply"]:
            messages = await self.a_process_all_messages_before_reply(messages)
        peer = sender.name if sender is not None else None
        # parley's own reply functions (the classic faces too) travel as themselves (pickled by
        # reference); others by name, matched against the names of the actor agent's reply functions.
        excluded = [f if getattr(f, "__module__", "").startswith("parley.") else getattr(f, "__name__", "")
                    for f in exclude]
        answer = await self._call("reply", list(messages), peer, self._auto_replies.get(peer or "", 0),
                                  events.current_chat_id.get(), excluded, self.system_message)
        if peer is not None:
            self._auto_replies[peer] = answer["auto_replies"]
        stream = events.current_stream()
        for event in answer["events"]:
            stream.emit(event)
        self._refresh_usage(answer["usage"])
        return answer["reply"], answer["produced_by"]

    def _refresh_usage(self, usage: tuple[dict | None, dict | None]) -> None:
        """The model's usage: what the live actor reports, plus what actors before a restart did."""
        self._usage_seen = usage
        if isinstance(self.client, RemoteModelClient):
            if self._usage_before_restart is None:
                self.client.total_usage_summary, self.client.actual_usage_summary = usage
            else:
                merged = usage_summary(*zip(self._usage_before_restart, usage, strict=True))
                self.client.total_usage_summary = merged["usage_including_cached_inference"]
                self.client.actual_usage_summary = merged["usage_excluding_cached_inference"]

    def _restarted(self) -> None:
        if isinstance(self.client, RemoteModelClient) and self._usage_seen != (None, None):
            self._usage_before_restart = (self.client.total_usage_summary, self.client.actual_usage_summary)

    async def _call(self, method: str, *args: Any) -> Any:
        """``method`` of the actor; asked again when the actor died during the call (Ray restarts it)."""
        from ray.exceptions import RayActorError

        for attempt in range(self.max_retries + 1):
            try:
                return await getattr(self.actor, method).remote(*args)
            except RayActorError as error:
                if attempt == self.max_retries:
                    raise RemoteAgentError(f"remote agent {self.name!r} died {attempt + 1} times while answering "
                                           f"({type(error).__name__}); giving up") from None
                self.retries += 1
                self._restarted()
                events.emit(events.Notice(text=f"remote agent {self.name!r} died while answering; asking its restarted "
                                          f"actor again ({attempt + 1} of {self.max_retries})", level="warning"))
                await asyncio.sleep(0)
        raise AssertionError("unreachable")

    def pid(self) -> int:
        """The actor's process id now (tests and tools that watch or stop it)."""
        return int(_ray().get(self.actor.pid.remote()))

    def close(self) -> None:
        """Stop the actor (it stops by itself too when this object is gone)."""
        _ray().kill(self.actor, no_restart=True)

    def __repr__(self) -> str:
        return f"RemoteAgent(name={self.name!r}, factory={self.factory!r})"


def _runs_remotely(agent: str, function: str) -> Callable[..., Any]:
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        raise UsageError(f"{function!r} is a function of remote agent {agent!r}: it runs in the agent's actor")
    stand_in.__name__ = function
    return stand_in


_actor_classes: dict[int, Any] = {}


def _host_class() -> Any:
    ray = _ray()
    if id(ray) not in _actor_classes:
        _actor_classes[id(ray)] = ray.remote(num_cpus=0)(AgentHost)
    return _actor_classes[id(ray)]


def remote(agent_factory: Callable[..., Any] | str, *, resources: dict[str, float] | None = None,
           args: tuple = (), kwargs: dict | None = None, address: str | None = None, max_restarts: int = 3,
           max_retries: int | None = None, start_timeout: float | None = 300.0,
           actor_options: dict | None = None) -> RemoteAgent:
    """An agent made by ``agent_factory(*args, **kwargs)`` in a Ray actor placed by ``resources``
    (Ray custom resources, e.g. ``{"gpu_box": 1}``: the actor goes to a node offering them),
    as a participant of chats run here.

    ``agent_factory``: a callable or ``"module:function"`` importable where the actor runs,
    returning a ``ConversableAgent`` with ``human_input_mode="NEVER"``. ``address``: the Ray to
    join when none is initialised (None: Ray's default, a cluster running on this machine or a new
    one). ``max_restarts``: how often Ray restarts a dead actor; ``max_retries`` (default: the same):
    how often a reply cut off by its death is asked again. ``start_timeout``: how long to wait for
a node offering ``resources`` and for the agent to be made (None: for ever). ``actor_options``: more Ray actor
    options (``num_gpus``, ``runtime_env``, ``scheduling_strategy``...)."""
    if not callable(agent_factory):
        if not isinstance(agent_factory, str) or ":" not in agent_factory:
            raise TypeError(f"agent_factory must be a callable or 'module:function', got {agent_factory!r}")
    if resources is not None and not (isinstance(resources, dict) and all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
            for k, v in resources.items())):
        raise ValueError(f"resources must map resource names to positive amounts, got {resources!r}")
    for option, value in (("max_restarts", max_restarts), ("max_retries", max_retries)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValueError(f"{option} must be a non-negative int, got {value!r}")
    ray = join_ray(address)
    options: dict[str, Any] = {"max_restarts": max_restarts, "max_task_retries": 0, **(actor_options or {})}
    if resources:
        options["resources"] = dict(resources)
    actor = _host_class().options(**options).remote(agent_factory, tuple(args), dict(kwargs or {}))
    label = agent_factory if isinstance(agent_factory, str) else getattr(agent_factory, "__qualname__", repr(agent_factory))
    try:
        card = ray.get(actor.card.remote(), timeout=start_timeout)
    except ray.exceptions.RayActorError as error:
        raise RemoteAgentError(f"remote agent from {label}: its actor could not make it: {_cause(error)}") from None
    except ray.exceptions.GetTimeoutError:
        ray.kill(actor, no_restart=True)
        raise RemoteAgentError(f"remote agent from {label}: not started within {start_timeout} s; is there a node with "
                               f"free resources {resources or {}} (a resource in use by another actor is not free)?") from None
    return RemoteAgent(actor, card, max_retries=max_restarts if max_retries is None else max_retries, factory=label)


def _cause(error: BaseException) -> str:
    """The factory's own error out of Ray's report of a failed actor creation."""
    cause = getattr(error, "cause", None) or getattr(error, "error_msg", None) or error
    text = str(cause)
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else text)[:1000]
