"""Resuming a stored run after a crash, a stop, or while it waits for a human.

Agents are code, so the caller builds the same agents again and passes them in; they are matched
to the stored run by name. Resume rebuilds both sides' histories from the stored messages (and the
auto-reply counters from which reply function produced each message), then continues the one
conversation loop from the last delivered message (``keep_conversing``). Messages lost in the
unflushed tail of a crashed process are generated again, so with a deterministic model the
finished transcript equals that of an uninterrupted run: nothing lost, nothing twice.

Supported: two-agent chats (with or without ``max_turns``), group chats (a chat with a
``GroupChatManager``: the transcript, every participant's history and the auto-reply counters are
rebuilt, and the manager's rounds go on from the next round), and runs waiting for human input
(``human_input=`` gives the answers). Refused with a clear error: runs of several top-level chats
(sequential chats), group chats started with ``max_turns``, group chats with nested teams or
``enable_clear_history``.

Durability: everything up to the last batch the recorder flushed is stored (a human-input request
is flushed before the question is asked); resume regenerates the tail.
"""

from __future__ import annotations

import collections
import json
import os
import socket
import time
from typing import Any, Iterable

from .._sync import run_sync
from ..messages import note_stored
from .errors import ResumeError, StoreError

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
    chain = [entry["reply_func"] for entry in agent._reply_func_list]
    if check not in chain:
        return "", frozenset()
    after = chain[chain.index(check) + 1:]
    return check.__name__, frozenset(getattr(f, "__name__", "reply_func") for f in after) | {"default_auto_reply"}


def _as_sent(received: dict) -> dict:
    """The sender's copy of a delivered message: the same, seen from the other side."""
    note_stored(received)  # both copies go into histories without to_oai_message, which counts them
    if received.get("role") == "user":
        return {**received, "role": "assistant"}
    return dict(received)


def _open_store(store: Any) -> Any:
    from .run_store import RunStore

    return store if isinstance(store, RunStore) else RunStore(store)


async def a_resume(
    run_id: str,
    agents: list,
    *,
    store: Any = None,
    human_input: str | Iterable[str] | None = None,
    summary_method: Any = "last_msg",
    summary_args: dict | None = None,
    cache: Any = None,
    silent: bool = False,
) -> Any:
    """Continue the stored run ``run_id`` with ``agents`` (the same agents, by name) until it ends;
    returns its ``ChatResult``. ``store`` is a RunStore or a URL/path (default store when None);
    ``human_input`` answers the first human-input questions (a run stopped while waiting)."""
    from ..agents.conversable import ConversableAgent, _chat_ids
    from ..chat.loop import converse, keep_conversing
    from ..chat.scope import ChatScope
    from ..chat.summary import summarize_chat, validate_summary_method
    from ..groupchat.manager import GroupChatManager
    from ..io import get_default, set_default

    validate_summary_method(summary_method)
    store = _open_store(store)
    info = store.get_run(run_id)  # RunNotFoundError when unknown
    run_id = info.id
    if info.status == "finished":
        raise ResumeError(f"run {run_id} is finished ({info.reason or 'completed'}): nothing to resume")
    if info.status in ("running", "waiting_input") and info.host == socket.gethostname() and info.pid and info.pid != os.getpid() and _alive(info.pid):
        raise ResumeError(f"run {run_id} is still running in process {info.pid}; stop it before resuming")
    by_name = _agents_by_name(agents)
    top = [c for c in store.records(run_id, "chats") if c["parent_id"] is None]
    if len(top) != 1:
        raise ResumeError(f"run {run_id} has {len(top)} top-level chats; resume supports runs of one chat (two-agent or group chat)")
    chat = top[0]
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
    max_turns = chat["max_turns"]

    # Rebuild the state the interrupted process had (without emitting anything).
    if manager is not None:
        spoken = _rebuild_group_chat(initiator, manager, stored, by_name, run_id)
        store._forget_speaker_selections(chat["id"], after_round=len(spoken) - 1)
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

    attached_here = not store.attached
    if attached_here:
        store.attach()
    recorder = store._require_recorder()
    chat_id = next(_chat_ids)
    recorder.control("bind", chat_id, run_id, chat["id"], time.time())
    answers = [human_input] if isinstance(human_input, str) else list(human_input or ())
    reason = "completed"
    try:
        with ChatScope(chat_id, initiator, recipient, cache, max_turns=max_turns) as scope, \
                set_default(_PrefilledInput(answers, get_default())):
            if manager is not None and spoken:
                last = spoken[-1]
                if len(spoken) == 1 and manager.groupchat.send_introductions:
                    _introduce(manager, stored)
                await manager.a_run_rounds(manager.groupchat, last.message, by_name[last.sender], len(spoken) - 1)
            elif max_turns is None:
                if stored:
                    last = stored[-1]
                    await keep_conversing(by_name[last.sender], by_name[last.recipient], None, silent)
                else:
                    await converse(initiator, recipient, json.loads(chat["message"]), None, silent)
            else:
                reason = await _finish_turns(initiator, recipient, stored, chat, max_turns, silent, converse, keep_conversing)
            summary = await summarize_chat(initiator, recipient, summary_method, summary_args or {}, cache)
        return scope.finish(reason, summary)
    finally:
        if attached_here:
            store.detach()  # after the chat's end is reported: it is recorded
        else:
            store.flush()


async def _finish_turns(initiator: Any, recipient: Any, stored: list, chat: dict, max_turns: int, silent: bool,
                        converse: Any, keep_conversing: Any) -> str:
    """The rest of a ``max_turns`` chat: each turn starts with one message of the initiator."""
    started = sum(1 for m in stored if m.sender == initiator.name)
    if not stored:
        await converse(initiator, recipient, json.loads(chat["message"]), True, silent)
        started = 1
    elif stored[-1].sender == initiator.name:
        # The turn's message arrived; its reply did not.
        await keep_conversing(initiator, recipient, True, silent)
    for _ in range(started, max_turns):
        message = await initiator.a_generate_reply(messages=initiator._oai_messages[recipient], sender=recipient)
        if message is None:
            return "completed"
        await converse(initiator, recipient, message, True, silent)
    return "max_turns"


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
    if max_turns is not None:
        raise ResumeError(f"run {run_id} is a group chat started with max_turns; such group chats can't be resumed yet")
    if groupchat.enable_clear_history:
        raise ResumeError(f"run {run_id} is a group chat with enable_clear_history; such group chats can't be resumed yet")
    nested = [a.name for a in groupchat.agents if isinstance(a, GroupChatManager)]
    if nested:
        raise ResumeError(f"run {run_id} is a group chat with nested team(s) {', '.join(map(repr, nested))}; "
                          "such group chats can't be resumed yet")


def _rebuild_group_chat(initiator: Any, manager: Any, stored: list, by_name: dict, run_id: str) -> list:
    """Rebuild a group chat's transcript and every history; returns the spoken (non-manager)
    messages. All but the last are shared as the manager's rounds did; the last is shared by
    ``a_run_rounds`` when the chat goes on."""
    groupchat = manager.groupchat
    initiator._prepare_chat(manager, clear_history=True)
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
    """Send the introductions a crash cut short (they precede the first round)."""
    introduced = {m.recipient for m in stored if m.sender == manager.name}
    intro = manager.groupchat.introductions_msg()
    for agent in manager.groupchat.agents:
        if agent.name not in introduced:
            manager._deliver(intro, agent, True)


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


def resume(run_id: str, agents: list, **options: Any) -> Any:
    """Sync face of ``a_resume``."""
    return run_sync(a_resume(run_id, agents, **options))


__all__ = ["a_resume", "resume", "StoreError", "ResumeError"]
