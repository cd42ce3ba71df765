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
import time
from typing import Any, Iterable

from .. import events
from ..chat.loop import converse, keep_conversing, run_turns
from ..messages import note_stored
from .errors import ResumeError

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reply_kinds(agent: Any) -> tuple[str, frozenset]:
    """Which reply-function names mean "a human answered" and which "an auto-reply" for this agent.

    The termination check counts consecutive auto-replies: a reply produced by a function after
    it in the chain (or ``default_auto_reply``) is one; a reply produced by the check itself is a
    human answer, which restarts the count.
    """
    from ..agents.conversable import _ASYNC_OF_SYNC, ConversableAgent

    check = _ASYNC_OF_SYNC.get(ConversableAgent.check_termination_and_human_reply)
    entries = agent._reply_func_list
    chain = [entry["reply_func"] for entry in entries]
    if check not in chain:
        return "", frozenset()
    at = chain.index(check)
    return entries[at]["name"], frozenset(entry["name"] for entry in entries[at + 1:]) | {"default_auto_reply"}


def _as_sent(received: dict) -> dict:
    """The sender's copy of a delivered message: the same, seen from the other side."""
    note_stored(received)  # both copies go into histories without to_oai_message, which counts them
    if received.get("role") == "user":
        return {**received, "role": "assistant"}
    return dict(received)


async def a_resume_run(
    run_id: str,
    agents: list | None = None,
    *,
    store: Any,
    chat_queue: list[dict] | None = None,
    human_input: str | Iterable[str] | None = None,
    summary_method: Any = "last_msg",
    summary_args: dict | None = None,
    cache: Any = None,
    silent: bool = False,
) -> Any:
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
    if info.status in ("running", "waiting_input") and info.host == socket.gethostname() and info.pid and info.pid != os.getpid() and _alive(info.pid):
        raise ResumeError(f"run {run_id} is still running in process {info.pid}; stop it before resuming")
    top = [c for c in store.records(run_id, "chats") if c["parent_id"] is None]
    if chat_queue is None:
        if len(top) != 1:
            raise ResumeError(f"run {run_id} has {len(top)} top-level chats (sequential chats): pass chat_queue=, "
                              "the list of chats it was started with")
        plan = _plan_chat(store, run_id, top[0], _agents_by_name(agents))
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
    _restore_usage(store, run_id, plan.by_name if chat_queue is None else _queue_agents(chat_queue))

    attached_here = not store.attached
    if attached_here:
        store.attach()
    answers = [human_input] if isinstance(human_input, str) else list(human_input or ())
    try:
        # The resumed run emits to the stream the store records (the default one, or the one it was attached to).
        with set_default(_PrefilledInput(answers, get_default())), events.use_stream(store.stream):
            if chat_queue is None:
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
    for i, (stored, entry) in enumerate(zip(top, chat_queue)):
        names = (getattr(entry["sender"], "name", None), getattr(entry["recipient"], "name", None))
        if names != (stored["sender"], stored["recipient"]):
            raise ResumeError(f"chat_queue[{i}] is {names[0]!r} -> {names[1]!r}, but chat {i + 1} of run {run_id} "
                              f"was {stored['sender']!r} -> {stored['recipient']!r}")


async def _resume_chats(store: Any, run_id: str, top: list[dict], chat_queue: list[dict], plan: _ChatPlan | None) -> list:
    """Resume a run of sequential chats: the stored results of the finished chats, the unfinished
    one (``plan``) resumed, then the rest of the queue, all in the same run."""
    from ..agents.conversable import ConversableAgent
    from ..chat.sequential import continue_chats, with_carryover
    from .recorder import run_scope

    recorder = store._require_recorder()
    recorder.control("continue_run", run_id, len(top))  # later chats join the run; it ends with the queue
    token = run_scope.set(run_id)
    status, reason = "finished", None
    try:
        results: list = []
        for stored, entry in zip(top, chat_queue):
            if stored["status"] == "finished":
                results.append(_stored_result(store, run_id, stored))
                continue
            assert plan is not None and plan.chat is stored  # the last stored chat (checked in a_resume)
            entry = with_carryover(entry, results)
            first = None
            if not plan.stored:
                # Stopped before its first message: that message again, with the carryover (which is not stored).
                first = await plan.initiator.a_generate_init_message(json.loads(stored["message"]), carryover=entry["carryover"])
            results.append(await _resume_chat(
                store, run_id, plan, entry.get("summary_method", ConversableAgent.DEFAULT_SUMMARY_METHOD),
                entry.get("summary_args"), entry.get("cache"), bool(entry.get("silent", False)), first,
            ))
        return await continue_chats(chat_queue, results)
    except BaseException as error:
        status, reason = ("interrupted", "interrupted") if not isinstance(error, Exception) else ("failed", "error")
        raise
    finally:
        run_scope.reset(token)
        recorder.control("finish_run", run_id, status, reason, time.time())


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


def _restore_usage(store: Any, run_id: str, by_name: dict) -> None:
    """Give agents rebuilt for the resume (their clients have no usage yet) the run's stored model
    calls, so usage summaries and ``ChatResult.cost`` count the whole run, as in an uninterrupted
    one. Agents that already have usage (resumed in the process that ran them) keep theirs."""
    fresh = {name: agent.client for name, agent in by_name.items()
             if getattr(agent, "client", None) is not None and agent.client.total_usage_summary is None}
    if not fresh:
        return
    chats = {chat["id"]: chat for chat in store.records(run_id, "chats")}
    calls: dict[str, list[dict]] = collections.defaultdict(list)
    for call in store.records(run_id, "model_calls"):
        calls[_client_owner(call, chats.get(call["chat_id"]), by_name)].append(call)
    for name, client in fresh.items():
        client.add_stored_usage(calls.get(name, ()))


def _client_owner(call: dict, chat: dict | None, by_name: dict) -> str | None:
    """Whose client made a stored model call: the agent it is recorded for, except a chat summary,
    which is recorded for the chat's sender but asks the recipient's model when it has one (as
    chat/summary.py does)."""
    if call["purpose"] != "summary" or chat is None:
        return call["agent"]
    recipient = by_name.get(chat["recipient"])
    return chat["recipient"] if getattr(recipient, "client", None) is not None else chat["sender"]


def _stored_result(store: Any, run_id: str, chat: dict) -> Any:
    """The ``ChatResult`` of a chat that finished before the crash, from the store: its history
    as the initiator saw it, summary, human input, and cost (the two agents' model calls in the
    run until the chat finished, as the classic cost counts them)."""
    from ..chat.result import ChatResult
    from ..models.wrapper import usage_of_calls
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

    def __init__(self, chat: dict, by_name: dict, initiator: Any, recipient: Any, manager: Any, stored: list) -> None:
        self.chat, self.by_name, self.initiator, self.recipient, self.manager, self.stored = (
            chat, by_name, initiator, recipient, manager, stored)


def _plan_chat(store: Any, run_id: str, chat: dict, by_name: dict) -> _ChatPlan:
    """Check that the stored ``chat`` can be resumed with the agents ``by_name``: a clear error
    before anything is changed, in the agents or in the store."""
    from ..agents.conversable import ConversableAgent
    from ..groupchat.manager import GroupChatManager

    by_name = dict(by_name)
    manager = by_name.get(chat["recipient"])
    if isinstance(manager, GroupChatManager):
        _check_group_chat(manager, run_id, chat["max_turns"])
        for agent in manager.groupchat.agents:  # the participants come with the manager
            by_name.setdefault(agent.name, agent)
    else:
        manager = None
    missing = [n for n in (chat["sender"], chat["recipient"]) if n not in by_name]
    if missing:
        raise ResumeError(f"run {run_id} needs agent(s) {', '.join(map(repr, missing))}; got {', '.join(map(repr, by_name))}")
    initiator, recipient = by_name[chat["sender"]], by_name[chat["recipient"]]
    if not isinstance(initiator, ConversableAgent) or not isinstance(recipient, ConversableAgent):
        raise ResumeError("resume needs ConversableAgent instances")
    stored = store.messages(run_id, chat_id=chat["id"])
    unknown = {n for m in stored for n in (m.sender, m.recipient) if n not in by_name}
    if unknown:
        raise ResumeError(f"run {run_id} has messages of agent(s) {', '.join(map(repr, sorted(unknown)))} not given in agents")
    if not stored and chat["message"] is None:
        raise ResumeError(f"run {run_id} stopped before its first message and that message was not stored (a callable?); start it again")
    return _ChatPlan(chat, by_name, initiator, recipient, manager, stored)


async def _resume_chat(store: Any, run_id: str, plan: _ChatPlan, summary_method: Any, summary_args: dict | None,
                       cache: Any, silent: bool, first_message: Any = None) -> Any:
    """Resume one planned chat (two-agent or group chat); the store is attached."""
    from ..agents.conversable import _chat_ids
    from ..chat.conversation import Conversation
    from ..chat.summary import summarize_chat
    from ..side_effects import replaying

    chat, by_name, stored = plan.chat, plan.by_name, plan.stored
    initiator, recipient, manager = plan.initiator, plan.recipient, plan.manager
    max_turns = chat["max_turns"]

    # Rebuild the state the interrupted process had (without emitting anything).
    if manager is not None:
        spoken = _rebuild_group_chat(initiator, manager, stored, by_name, run_id, max_turns)
        # Where each turn of the initiator began (a chat without max_turns has one turn).
        selections = [s for s in store.records(run_id, "speaker_selections") if s["chat_id"] == chat["id"]]
        turn_starts = _group_turns(spoken, selections, initiator.name, run_id) if max_turns is not None else [0]
        store._forget_speaker_selections(chat["id"], keep=len(spoken) - len(turn_starts))
    else:
        initiator._prepare_chat(recipient, clear_history=True, reply_at_receive=max_turns is None)
        reply_kinds = {agent: _reply_kinds(agent) for agent in (initiator, recipient)}
        for stored_message in stored:
            sender, receiver = by_name[stored_message.sender], by_name[stored_message.recipient]
            receiver._oai_messages[sender].append(stored_message.message)
            sender._oai_messages[receiver].append(_as_sent(stored_message.message))
            _count_reply(sender, receiver, stored_message.produced_by, reply_kinds)
    participants = (initiator, recipient, *(manager.groupchat.agents if manager is not None else ()))
    human_inputs = store.records(run_id, "human_inputs")
    for agent in dict.fromkeys(participants):
        agent._human_input = [h["text"] for h in human_inputs
                              if h["kind"] == "reply" and h["agent"] == agent.name and h["chat_id"] == chat["id"]]

    recorder = store._require_recorder()
    chat_id = next(_chat_ids)
    recorder.control("bind", chat_id, run_id, chat["id"], time.time())
    reason = "completed"
    # Code and tool calls that ran before the crash: their stored results, reused at the same points.
    effects = [{**row, "result": json.loads(row["result"])} for row in store.records(run_id, "side_effects")
               if row["chat_id"] == chat["id"]]
    conversation = Conversation(chat_id, initiator, recipient, cache=cache, silent=silent, max_turns=max_turns)
    conversation.human_input = list(initiator._human_input)
    with conversation, replaying(chat_id, effects):
        if manager is not None and spoken:
            turn = spoken[turn_starts[-1]:]  # the current turn's messages: its rounds go on from the last
            if len(turn) == 1 and manager.groupchat.send_introductions:
                # Each turn's introductions follow its first message (the manager sends them per run).
                _introduce(manager, stored[next(i for i, m in enumerate(stored) if m is turn[0]):])
            await manager.a_run_rounds(manager.groupchat, turn[-1].message, by_name[turn[-1].sender], len(turn) - 1)
            if max_turns is not None:
                reason = await run_turns(initiator, manager, len(turn_starts), max_turns, silent)
        elif max_turns is None:
            if stored:
                last = stored[-1]
                await keep_conversing(by_name[last.sender], by_name[last.recipient], None, silent)
            else:
                await converse(initiator, recipient, first_message or json.loads(chat["message"]), None, silent)
        else:
            reason = await _finish_turns(initiator, recipient, stored, chat, max_turns, silent, first_message)
        summary = await summarize_chat(initiator, recipient, summary_method, summary_args or {}, cache)
    return conversation.finish(reason, summary)


async def _finish_turns(initiator: Any, recipient: Any, stored: list, chat: dict, max_turns: int, silent: bool,
                        first_message: Any = None) -> str:
    """The rest of a ``max_turns`` chat: each turn starts with one message of the initiator."""
    started = sum(1 for m in stored if m.sender == initiator.name)
    if not stored:
        await converse(initiator, recipient, first_message or json.loads(chat["message"]), True, silent)
        started = 1
    elif stored[-1].sender == initiator.name:
        # The turn's message arrived; its reply did not.
        await keep_conversing(initiator, recipient, True, silent)
    return await run_turns(initiator, recipient, started, max_turns, silent)


def _group_turns(spoken: list, selections: list[dict], initiator: str, run_id: str) -> list[int]:
    """Where each turn of a group chat started with ``max_turns`` begins in ``spoken``: each turn
    is the initiator's message, then the rounds the manager ran for it, the message at position n
    of a turn being the one its round-n speaker selection asked for (rounds start again each turn)."""
    starts, matched = [0], 0
    for k in range(1, len(spoken)):
        selection = selections[matched] if matched < len(selections) else None
        if selection is not None and selection["speaker"] == spoken[k].sender and selection["round"] == k - starts[-1]:
            matched += 1
        elif spoken[k].sender == initiator:
            starts.append(k)
        else:
            raise ResumeError(f"run {run_id}: message {k + 1} of its group chat, from {spoken[k].sender!r}, follows "
                              "no stored speaker selection; not a group chat this can resume")
    return starts


def _count_reply(sender: Any, receiver: Any, produced_by: str | None, reply_kinds: dict) -> None:
    """Replay the auto-reply counter change the message caused on its sender's side."""
    human_reply, auto_replies = reply_kinds.get(sender, ("", frozenset()))
    if produced_by in auto_replies:
        sender._consecutive_auto_reply_counter[receiver] += 1
    elif produced_by == human_reply:
        sender._consecutive_auto_reply_counter[receiver] = 0


def _check_group_chat(manager: Any, run_id: str, max_turns: int | None) -> None:
    """Refuse the group chats whose state a rebuild from the stored messages would get wrong."""
    from ..groupchat.manager import GroupChatManager

    groupchat = manager.groupchat
    if groupchat.enable_clear_history:
        raise ResumeError(f"run {run_id} is a group chat with enable_clear_history; such group chats can't be resumed yet")
    nested = [a.name for a in groupchat.agents if isinstance(a, GroupChatManager)]
    if nested:
        raise ResumeError(f"run {run_id} is a group chat with nested team(s) {', '.join(map(repr, nested))}; "
                          "such group chats can't be resumed yet")


def _rebuild_group_chat(
    initiator: Any, manager: Any, stored: list, by_name: dict, run_id: str, max_turns: int | None,
) -> list:
    """Rebuild a group chat's transcript and every history; returns the spoken (non-manager)
    messages. All but the last are shared as the manager's rounds did; the last is shared by
    ``a_run_rounds`` when the chat goes on."""
    groupchat = manager.groupchat
    initiator._prepare_chat(manager, clear_history=True, reply_at_receive=max_turns is None)
    reply_kinds = {agent: _reply_kinds(agent) for agent in {initiator, *groupchat.agents}}
    spoken = [m for m in stored if m.sender != manager.name]
    for stored_message in stored:
        if stored_message.sender == manager.name:  # an introduction
            receiver = by_name[stored_message.recipient]
            receiver._oai_messages[manager].append(stored_message.message)
            manager._oai_messages[receiver].append(_as_sent(stored_message.message))
            continue
        if stored_message.recipient != manager.name:
            raise ResumeError(f"run {run_id} has a message from {stored_message.sender!r} to {stored_message.recipient!r} "
                              f"in its group chat, which goes through {manager.name!r}: not a group chat this can resume")
        sender = by_name[stored_message.sender]
        manager._oai_messages[sender].append(stored_message.message)
        sender._oai_messages[manager].append(_as_sent(stored_message.message))
        _count_reply(sender, manager, stored_message.produced_by, reply_kinds)
        if stored_message is not spoken[-1]:
            manager._share(groupchat, stored_message.message, sender)
    return spoken


def _introduce(manager: Any, stored: list) -> None:
    """Send the introductions a crash cut short (``stored``: from the turn's first message on;
    they precede its first round)."""
    introduced = {m.recipient for m in stored if m.sender == manager.name}
    intro = manager.groupchat.introductions_msg()
    for agent in manager.groupchat.agents:
        if agent.name not in introduced:
            manager.deliver(intro, agent, True)


def _agents_by_name(agents: list) -> dict:
    if not isinstance(agents, (list, tuple)) or not agents:
        raise ResumeError("agents must be a non-empty list of the run's agents")
    by_name: dict = {}
    for agent in agents:
        name = getattr(agent, "name", None)
        if not isinstance(name, str):
            raise ResumeError(f"agents must be agents, got {type(agent).__name__}")
        if name in by_name:
            raise ResumeError(f"two agents are named {name!r}; names must be unique to match a stored run")
        by_name[name] = agent
    return by_name


