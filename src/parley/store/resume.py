"""Resuming a stored run after a crash, a stop, or while it waits for a human.

Agents are code, so the caller builds the same agents again and passes them in; they are matched
to the stored run by name. Resume rebuilds both sides' histories from the stored messages (and the
auto-reply counters from which reply function produced each message), then continues the one
conversation loop from the last delivered message (``keep_conversing``). Messages lost in the
unflushed tail of a crashed process are generated again, so with a deterministic model the
finished transcript equals that of an uninterrupted run: nothing lost, nothing twice.

Supported: two-agent chats (with or without ``max_turns``), group chats (a chat with a
``GroupChatManager``: the transcript, every participant's history and the auto-reply counters are
rebuilt, and the manager's rounds go on from the next round; with ``max_turns``, the stored speaker
selections tell where each of the initiator's turns began), sequential chats run in one
``RunStore.new_run`` (``chat_queue=`` gives the queue again: the finished chats' results come
from the store, the interrupted chat is resumed, the rest run with the summaries carried over),
and runs waiting for human input (``human_input=`` gives the answers). Refused with a clear
error: group chats with nested teams or ``enable_clear_history``.

Usage: agents rebuilt for the resume (no usage of their own yet) are given the run's stored model
calls, so their usage summaries and each ``ChatResult.cost`` count the whole run, as in an
uninterrupted one; a finished chat's result takes its cost from the store.

Durability: everything up to the last batch the recorder flushed is stored (a human-input request
is flushed before the question is asked); resume regenerates the tail. Code executions and tool
calls are committed before their results are used, and the resumed chat reuses those results at
the same points instead of running them again (``parley.side_effects``).
"""

from __future__ import annotations

import collections
import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .. import events
from ..agents.agent import Agent
from ..chat.participant import Participant
from .errors import ResumeError

if TYPE_CHECKING:
    from ..cache import CacheBackend
    from ..chat.result import ChatResult
    from ..groupchat.manager import GroupChatManager
    from .run_store import RunStore, StoredMessage


class _PrefilledInput:
    """An IOStream that answers the first questions from a list, then asks the usual stream."""

    def __init__(self, answers: Iterable[str], fallback: Any) -> None:
        self.answers = collections.deque(answers)
        self.fallback = fallback

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        self.fallback.print(*objects, sep=sep, end=end, flush=flush)

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        if self.answers:
            return self.answers.popleft()
        return self.fallback.input(prompt, password=password)

    async def a_input(self, prompt: str = "", *, password: bool = False) -> str:
        if self.answers:
            return self.answers.popleft()
        if hasattr(self.fallback, "a_input"):
            return await self.fallback.a_input(prompt)
        return self.fallback.input(prompt, password=password)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs (one that is not ours to signal does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def a_resume_run(
    run_id: str,
    agents: list | None = None,
    *,
    store: RunStore,
    chat_queue: list[dict] | None = None,
    human_input: str | Iterable[str] | None = None,
    summary_method: str | Callable | None = "last_msg",
    summary_args: dict | None = None,
    cache: CacheBackend | None = None,
    silent: bool = False,
) -> ChatResult | list[ChatResult]:
    """Continue the stored run ``run_id`` until it ends and return its ``ChatResult``: a run of
    one chat with ``agents`` (the same agents, by name), a run of sequential chats with
    ``chat_queue`` (the list it was started with; returns the list of results, as
    ``initiate_chats`` does). ``store``: the open RunStore (``RunStore.resume`` passes itself);
    ``human_input`` answers the first human-input questions (a run stopped while waiting);
    ``summary_method``, ``summary_args``, ``cache``, ``silent``: a single chat's options (a
    queue's come from its entries)."""
    from ..chat.summary import validate_summary_method
    from ..io import get_default, set_default

    validate_summary_method(summary_method)
    if chat_queue is not None:
        options = (("summary_method", summary_method, "last_msg"), ("summary_args", summary_args, None),
                   ("cache", cache, None), ("silent", silent, False))
        given = [name for name, value, default in options if value != default]
        if given:
            raise ResumeError(f"{', '.join(given)}: with chat_queue, each chat's options come from its entry, "
                              "as in initiate_chats; set them there")
    info = store.get_run(run_id)  # RunNotFoundError when unknown
    run_id = info.id
    if info.status == "finished":
        raise ResumeError(f"run {run_id} is finished ({info.reason or 'completed'}): nothing to resume")
    pid = info.pid
    here = info.host == socket.gethostname() and pid is not None and pid != os.getpid()
    if info.status in ("running", "waiting_input") and here and pid and process_alive(pid):
        raise ResumeError(f"run {run_id} is still running in process {info.pid}; stop it before resuming")
    top = [c for c in store.records(run_id, "chats") if c["parent_id"] is None]
    if chat_queue is None:
        if len(top) != 1:
            raise ResumeError(f"run {run_id} has {len(top)} top-level chats (sequential chats): pass chat_queue=, "
                              "the list of chats it was started with")
        plan = _plan_chat(store, run_id, top[0], _agents_by_name(agents or []))
    else:
        _check_chat_queue(chat_queue, top, run_id)
        unfinished = [i for i, chat in enumerate(top) if chat["status"] != "finished"]
        if unfinished and unfinished != [len(top) - 1]:
            raise ResumeError(f"run {run_id}: chat {unfinished[0] + 1} did not finish but later chats started; "
                              "not a sequence this can resume")
        plan = None
        if unfinished:
            entry = chat_queue[unfinished[0]]
            plan = _plan_chat(store, run_id, top[unfinished[0]], _agents_by_name([entry["sender"], entry["recipient"]]))
    _restore_usage(store, run_id, _queue_agents(chat_queue) if chat_queue is not None else plan.by_name if plan else {})

    attached_here = not store.attached
    if attached_here:
        store.attach()
    answers = [human_input] if isinstance(human_input, str) else list(human_input or ())
    try:
        # The resumed run emits to the stream the store records (the default one, or the one it was attached to).
        with set_default(_PrefilledInput(answers, get_default())), events.use_stream(store.stream):
            if chat_queue is None:
                assert plan is not None
                return await _resume_chat(store, run_id, plan, summary_method, summary_args, cache, silent)
            return await _resume_chats(store, run_id, top, chat_queue, plan)
    finally:
        if attached_here:
            store.detach()  # after the chat's end is reported: it is recorded
        else:
            store.flush()


def _check_chat_queue(chat_queue: list[dict], top: list[dict], run_id: str) -> None:
    """Check the queue against the stored chats: as many or more, the same agents in each."""
    from ..chat.sequential import validate_chat_queue

    validate_chat_queue(chat_queue)
    if len(top) > len(chat_queue):
        raise ResumeError(f"run {run_id} has {len(top)} chats; chat_queue has only {len(chat_queue)}")
    for i, (stored, entry) in enumerate(zip(top, chat_queue, strict=False)):  # the queue may be longer
        names = (getattr(entry["sender"], "name", None), getattr(entry["recipient"], "name", None))
        if names != (stored["sender"], stored["recipient"]):
            raise ResumeError(f"chat_queue[{i}] is {names[0]!r} -> {names[1]!r}, but chat {i + 1} of run {run_id} "
                              f"was {stored['sender']!r} -> {stored['recipient']!r}")


async def _resume_chats(store: RunStore, run_id: str, top: list[dict], chat_queue: list[dict],
                        plan: _ChatPlan | None) -> list[ChatResult]:
    """Resume a run of sequential chats through the one sequence loop (``chat.sequential``), in
    the same run: the store supplies the results of the finished chats and resumes the
    unfinished one (``plan``); the rest of the queue runs with the summaries carried over."""
    from ..agents.conversable import ConversableAgent
    from ..chat.sequential import a_run_chats_in_order
    from .recorder import run_scope

    async def resume_interrupted(entry: dict) -> ChatResult:
        assert plan is not None and plan.chat is top[-1]  # the last stored chat (checked in a_resume_run)
        first = None
        if not plan.stored:
            # Stopped before its first message: that message again, with the carryover (which is not stored).
            first = await plan.initiator.a_generate_init_message(json.loads(plan.chat["message"]), carryover=entry["carryover"])
        return await _resume_chat(
            store, run_id, plan, entry.get("summary_method", ConversableAgent.DEFAULT_SUMMARY_METHOD),
            entry.get("summary_args"), entry.get("cache"), bool(entry.get("silent", False)), first,
        )

    store.continue_run(run_id, len(top))  # later chats join the run; it ends with the queue
    token = run_scope.set(run_id)
    status, reason = "finished", None
    try:
        finished = [_stored_result(store, run_id, stored) for stored in top if stored["status"] == "finished"]
        return await a_run_chats_in_order(chat_queue, finished, resume_interrupted if plan is not None else None)
    except BaseException as error:
        status, reason = ("interrupted", "interrupted") if not isinstance(error, Exception) else ("failed", "error")
        raise
    finally:
        run_scope.reset(token)
        store.finish_run(run_id, status, reason)


def _queue_agents(chat_queue: list[dict]) -> dict:
    """The agents of a chat queue by name, group chat participants included."""
    from ..groupchat.manager import GroupChatManager

    by_name: dict = {}
    for entry in chat_queue:
        for agent in (entry["sender"], entry["recipient"]):
            by_name.setdefault(agent.name, agent)
            if isinstance(agent, GroupChatManager):
                for member in agent.groupchat.agents:
                    by_name.setdefault(member.name, member)
    return by_name


def _restore_usage(store: RunStore, run_id: str, by_name: Mapping[str, Agent]) -> None:
    """Give agents rebuilt for the resume (their clients have no usage yet) the run's stored model
    calls, so usage summaries and ``ChatResult.cost`` count the whole run, as in an uninterrupted
    one. Agents that already have usage (resumed in the process that ran them) keep theirs."""
    fresh = {name: agent.client for name, agent in by_name.items()
             if isinstance(agent, Participant) and agent.client is not None and agent.client.total_usage_summary is None}
    if not fresh:
        return
    chats = {chat["id"]: chat for chat in store.records(run_id, "chats")}
    calls: dict[str | None, list[dict]] = collections.defaultdict(list)
    for call in store.records(run_id, "model_calls"):
        calls[_client_owner(call, chats.get(call["chat_id"]), by_name)].append(call)
    for name, client in fresh.items():
        client.add_stored_usage(calls.get(name, ()))


def _client_owner(call: dict, chat: dict | None, by_name: Mapping[str, Agent]) -> str | None:
    """Whose client made a stored model call: the agent it is recorded for, except a chat summary,
    which is recorded for the chat's sender but asks the recipient's model when it has one (as
    chat/summary.py does)."""
    if call["purpose"] != "summary" or chat is None:
        return call["agent"]
    recipient = by_name.get(chat["recipient"])
    return chat["recipient"] if isinstance(recipient, Participant) and recipient.client is not None else chat["sender"]


def _stored_result(store: RunStore, run_id: str, chat: dict) -> ChatResult:
    """The ``ChatResult`` of a chat that finished before the crash, from the store: its history
    as the initiator saw it, summary, human input, and cost (the two agents' model calls in the
    run until the chat finished, as the classic cost counts them)."""
    from ..chat.result import ChatResult
    from ..models.accounting import usage_of_calls
    from ..usage import usage_summary

    initiator = chat["sender"]
    history = []
    for stored in store.messages(run_id, chat_id=chat["id"]):
        message = stored.message
        if stored.sender == initiator and message.get("role") == "user":
            message = {**message, "role": "assistant"}  # the sender's copy
        history.append(message)
    human = [h["text"] for h in store.records(run_id, "human_inputs")
             if h["kind"] == "reply" and h["agent"] == initiator and h["chat_id"] == chat["id"]]
    agents = (chat["sender"], chat["recipient"])
    total, actual = usage_of_calls(call for call in store.records(run_id, "model_calls")
                                   if call["agent"] in agents and call["created_at"] <= chat["finished_at"])
    return ChatResult(chat_history=history, summary=chat["summary"], human_input=human,
                      cost=usage_summary([total], [actual]))


class _ChatPlan:
    """A stored chat checked for resuming: its agents and stored messages (nothing changed yet)."""

    def __init__(self, chat: dict, by_name: dict[str, Participant], initiator: Participant, recipient: Participant,
                 manager: GroupChatManager | None, stored: list[StoredMessage]) -> None:
        self.chat, self.by_name, self.initiator, self.recipient, self.manager, self.stored = (
            chat, by_name, initiator, recipient, manager, stored)


def _plan_chat(store: RunStore, run_id: str, chat: dict, given: dict[str, Agent]) -> _ChatPlan:
    """Check that the stored ``chat`` can be resumed with the agents ``given`` (by name): a clear
    error before anything is changed, in the agents or in the store."""
    from ..groupchat.manager import GroupChatManager

    by_name = dict(given)
    found = by_name.get(chat["recipient"])
    manager = found if isinstance(found, GroupChatManager) else None
    if manager is not None:
        manager.check_resumable(run_id)
        for agent in manager.groupchat.agents:  # the participants come with the manager
            by_name.setdefault(agent.name, agent)
    missing = [n for n in (chat["sender"], chat["recipient"]) if n not in by_name]
    if missing:
        raise ResumeError(f"run {run_id} needs agent(s) {', '.join(map(repr, missing))}; got {', '.join(map(repr, by_name))}")
    stored = store.messages(run_id, chat_id=chat["id"])
    unknown = {n for m in stored for n in (m.sender, m.recipient) if n not in by_name}
    if unknown:
        raise ResumeError(f"run {run_id} has messages of agent(s) {', '.join(map(repr, sorted(unknown)))} not given in agents")
    involved = {chat["sender"], chat["recipient"], *(n for m in stored for n in (m.sender, m.recipient))}
    participants = {name: agent for name, agent in by_name.items() if isinstance(agent, Participant)}
    if not involved <= participants.keys():
        raise ResumeError("resume needs ConversableAgent instances")
    if not stored and chat["message"] is None:
        raise ResumeError(f"run {run_id} stopped before its first message and that message was not stored (a callable?); "
                          "start it again")
    return _ChatPlan(chat, participants, participants[chat["sender"]], participants[chat["recipient"]], manager, stored)


async def _resume_chat(store: RunStore, run_id: str, plan: _ChatPlan, summary_method: str | Callable | None,
                       summary_args: dict | None, cache: CacheBackend | None, silent: bool,
                       first_message: str | dict | None = None) -> ChatResult:
    """Resume one planned chat (two-agent or group chat); the store is attached. The chat's own
    code rebuilds and continues it (``chat.resume``, ``GroupChatManager.restore_run``); this reads
    the store and binds the resumed chat to its stored run."""
    from ..agents.conversable import next_chat_id
    from ..chat.conversation import Conversation
    from ..chat.resume import a_continue_exchange, restore_exchange
    from ..chat.summary import summarize_chat
    from ..groupchat.manager import stored_turn_starts
    from ..side_effects import replaying

    chat, by_name, stored = plan.chat, plan.by_name, plan.stored
    initiator, recipient, manager = plan.initiator, plan.recipient, plan.manager
    max_turns = chat["max_turns"]

    # Rebuild the state the interrupted process had (without emitting anything).
    if manager is not None:
        spoken = manager.restore_run(initiator, stored, by_name, run_id, max_turns)
        # Where each turn of the initiator began (a chat without max_turns has one turn).
        selections = [s for s in store.records(run_id, "speaker_selections") if s["chat_id"] == chat["id"]]
        turn_starts = stored_turn_starts(spoken, selections, initiator.name, run_id) if max_turns is not None else [0]
        store.forget_speaker_selections(chat["id"], keep=len(spoken) - len(turn_starts))
    else:
        restore_exchange(initiator, recipient, stored, by_name, max_turns)
    participants = (initiator, recipient, *(manager.groupchat.agents if manager is not None else ()))
    human_inputs = store.records(run_id, "human_inputs")
    for agent in dict.fromkeys(participants):
        agent.restore_human_input([h["text"] for h in human_inputs
                                   if h["kind"] == "reply" and h["agent"] == agent.name and h["chat_id"] == chat["id"]])

    chat_id = next_chat_id()
    store.bind_chat(chat_id, run_id, chat["id"])
    # Code and tool calls that ran before the crash: their stored results, reused at the same points.
    effects = [{**row, "result": json.loads(row["result"])} for row in store.records(run_id, "side_effects")
               if row["chat_id"] == chat["id"]]
    conversation = Conversation(chat_id, initiator, recipient, cache=cache, silent=silent, max_turns=max_turns)
    conversation.human_input = list(initiator.human_input)
    with conversation, replaying(chat_id, effects):
        if manager is not None and spoken:
            reason = await manager.a_continue_run(initiator, stored, turn_starts, by_name, max_turns, silent)
        else:
            opening = None if stored else first_message or json.loads(chat["message"])
            reason = await a_continue_exchange(initiator, recipient, stored, by_name, opening, max_turns, silent)
        summary = await summarize_chat(initiator, recipient, summary_method, summary_args or {}, cache)
    return conversation.finish(reason, summary)


def _agents_by_name(agents: list) -> dict[str, Agent]:
    if not isinstance(agents, (list, tuple)) or not agents:
        raise ResumeError("agents must be a non-empty list of the run's agents")
    by_name: dict[str, Agent] = {}
    for agent in agents:
        name = getattr(agent, "name", None)
        if not isinstance(name, str):
            raise ResumeError(f"agents must be agents, got {type(agent).__name__}")
        if name in by_name:
            raise ResumeError(f"two agents are named {name!r}; names must be unique to match a stored run")
        by_name[name] = agent
    return by_name


