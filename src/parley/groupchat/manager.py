"""``GroupChatManager``: runs a group chat as a reply function of an agent.

When a message reaches the manager, its ``a_run_chat`` reply function runs the rounds: record
the message and show it to every participant, pick the next speaker, let it reply, deliver the
reply to the manager, and again, until a termination message, ``max_round``, a speaker that
declines to reply (a human typing ``exit``), or selection rules that end the chat.

Showing a message to the participants logs it once (``broadcast.Broadcast``): one shared dict
(role "user", the speaker's name) for the participants and one shared "assistant"-role dict for
the manager's side; each participant's histories catch up with the log before it speaks, so a
message costs the same whatever the number of agents. No per-receiver copies, no per-receiver
events (the console shows the speaker's delivery to the manager, as classic does). Stored
messages are never mutated by the engine, which is what makes sharing them safe.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from .. import events
from .._sync import sync_twin
from ..agents.agent import Agent
from ..agents.conversable import ConversableAgent
from ..chat.loop import run_turns
from ..chat.participant import Participant
from ..chat.resume import StoredDelivery
from ..errors import ResumeError
from ..io import get_default as _iostream
from ..messages import content_str, to_oai_message
from .broadcast import Broadcast
from .groupchat import GroupChat

logger = logging.getLogger(__name__)


def _default_llm_config(groupchat: GroupChat) -> dict | Literal[False]:
    """The embedded model when "auto" selection may need one and llama.cpp is installed."""
    method = groupchat.speaker_selection_method
    if isinstance(method, str) and method.lower() != "auto":
        return False
    if importlib.util.find_spec("llama_cpp") is None:
        return False  # "auto" then takes the next speaker in turn, with a notice
    from ..agents.assistant import LOCAL_DEFAULT_LLM_CONFIG

    return LOCAL_DEFAULT_LLM_CONFIG


class GroupChatManager(ConversableAgent):
    """An agent that runs a :class:`GroupChat` when it receives a message (classic API)."""

    def __init__(
        self,
        groupchat: GroupChat,
        name: str = "chat_manager",
        max_consecutive_auto_reply: int | None = sys.maxsize,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "NEVER",
        system_message: str | list | None = "Group chat manager.",
        silent: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(groupchat, GroupChat):
            raise TypeError(f"GroupChatManager groupchat must be a GroupChat, not {type(groupchat).__name__}")
        llm_config = kwargs.get("llm_config")
        if isinstance(llm_config, dict) and (llm_config.get("functions") or llm_config.get("tools")):
            raise ValueError(
                "GroupChatManager is not allowed to make function/tool calls: remove 'functions'/'tools' from its llm_config "
                "(give them to a participant)"
            )
        if llm_config is None:
            kwargs["llm_config"] = _default_llm_config(groupchat)
        super().__init__(
            name=name,
            max_consecutive_auto_reply=max_consecutive_auto_reply,
            human_input_mode=human_input_mode,
            system_message=system_message,
            **kwargs,
        )
        self._groupchat = groupchat
        self._last_speaker: Agent | None = None
        self._run_broadcast: Broadcast | None = None  # the messages of the run in progress
        self._silent = bool(silent)
        self.register_reply(Agent, GroupChatManager.a_run_chat, config=groupchat, reset_config=GroupChat.reset)

    @property
    def groupchat(self) -> GroupChat:
        return self._groupchat

    @property
    def last_speaker(self) -> Agent | None:
        """Who sent the message the manager is relaying now (participants see only the manager)."""
        return self._last_speaker

    def chat_messages_for_summary(self, agent: Agent) -> list[dict]:
        return self._groupchat.messages

    def _sync_histories(self) -> None:
        super()._sync_histories()
        if self._run_broadcast is not None:
            self._run_broadcast.catch_up_all(self._groupchat.agents)

    def _prepare_chat(
        self, recipient: ConversableAgent, clear_history: bool, prepare_recipient: bool = True, reply_at_receive: bool = True
    ) -> None:
        super()._prepare_chat(recipient, clear_history, prepare_recipient, reply_at_receive)
        if clear_history:
            self._groupchat.reset()
        for agent in self._groupchat.agents:
            if agent is not recipient or prepare_recipient:
                _participant(agent).prepare_chat_side(self, clear_history, reply_at_receive)

    # ----------------------------------------------------------------- the rounds

    def _share(self, groupchat: GroupChat, received: dict, speaker: Participant, broadcast: Broadcast | None = None) -> dict:
        """Add ``received`` (the manager's copy of the speaker's message) to the transcript and
        show it to every other participant: through ``broadcast`` (they catch up later), or at
        once without one; returns the transcript's dict."""
        name = speaker.name
        shared = received
        if type(received.get("content")) is not str or (received.get("role") != "function" and received.get("name") != name):
            shared = {**received, "content": content_str(received.get("content"))}
            if received.get("role") != "function":
                shared["name"] = name
        groupchat.messages.append(shared)
        if shared.get("role") == "user" and "tool_calls" not in shared and "function_call" not in shared:
            as_sent = {**shared, "role": "assistant"}  # what to_oai_message gives, without its key scan
        else:
            converted = to_oai_message(shared, "assistant", name)
            assert converted is not None  # the transcript holds only convertible messages
            as_sent = converted
        if broadcast is not None:
            broadcast.add(shared, as_sent, speaker)
            return shared
        histories = self._oai_messages
        for agent in groupchat.agents:
            if agent is not speaker:
                _participant(agent).extend_history(self, [shared])
                histories[agent].append(as_sent)
        return shared

    async def a_run_chat(
        self, messages: list[dict] | None = None, sender: Agent | None = None, config: GroupChat | None = None
    ) -> tuple[bool, str | None]:
        """Run the group chat from the last message of ``messages`` (a reply function)."""
        groupchat = config if config is not None else self._groupchat
        if messages is None:
            messages = self._oai_messages[sender] if sender is not None else []
        if not messages or sender is None:
            return True, None
        message = messages[-1]  # before the introductions, which land in the same history
        if groupchat.send_introductions:
            intro = groupchat.introductions_msg()
            for agent in groupchat.agents:
                self.deliver(intro, agent, True)
        await self.a_run_rounds(groupchat, message, _participant(sender), 0)
        if isinstance(sender, GroupChatManager) and self in sender.groupchat.agents and groupchat.messages:
            # A team inside an outer group chat: its turn's reply is where it got to.
            return True, content_str(groupchat.messages[-1].get("content")).replace("TERMINATE", "").strip()
        return True, None

    async def a_run_rounds(self, groupchat: GroupChat, message: dict, speaker: Participant, first_round: int) -> None:
        """The rounds from ``first_round`` on: share ``message`` (``speaker``'s, not yet shared), pick
        the next speaker, and so on. ``a_run_chat`` starts at round 0; resuming a stored run
        (``parley.store.resume``) starts where the stored transcript ends."""
        # The participants' model calls use the chat's cache (``Conversation``): nothing to lend them.
        silent = self._silent
        wanted_anywhere = events.wanted_silent_anywhere if silent else events.wanted_anywhere
        is_termination_msg = self._is_termination_msg
        last_round = groupchat.max_round - 1
        histories = self._oai_messages
        agents = [_participant(agent) for agent in groupchat.agents]
        broadcast = self._run_broadcast = Broadcast(self, histories)
        for agent in agents:
            agent.join_broadcast(broadcast)  # their public history accessors catch up first
        catch_up = broadcast.catch_up
        choose = groupchat.choose_speaker_now
        try:
            for i in range(first_round, groupchat.max_round):
                self._last_speaker = speaker
                message = self._share(groupchat, message, speaker, broadcast)
                if is_termination_msg(message) or i == last_round:
                    break
                try:
                    choice = choose(speaker, self)
                    chosen, method = choice if type(choice) is tuple else await choice
                    if chosen is None:
                        break
                    speaker = chosen if isinstance(chosen, Participant) else _participant(chosen)
                    if events.SpeakerSelected in wanted_anywhere:  # some stream's sink wants it: is it the run's?
                        stream = events.current_stream()
                        if events.SpeakerSelected in (stream.wanted_silent if silent else stream.wanted):
                            stream.emit(events.SpeakerSelected(manager=self._name, speaker=speaker.name, method=method,
                                                               round=i + 1, silent=silent), silent)
                    catch_up(speaker)
                    reply, produced_by = await speaker.a_reply_with_origin(sender=self)
                except KeyboardInterrupt:
                    found = groupchat.agent_by_name(groupchat.admin_name)
                    if found is None:
                        raise
                    speaker = admin = _participant(found)
                    events.emit(events.SpeakerSelected(manager=self._name, speaker=admin.name, method="interrupt", round=i + 1,
                                                       silent=silent), silent)
                    catch_up(admin)
                    reply, produced_by = await admin.a_reply_with_origin(sender=self)
                if reply is None:
                    break
                if groupchat.enable_clear_history:
                    reply = self._clear_history_on_request(reply, groupchat)
                speaker.deliver(reply, self, silent, produced_by)
                message = histories[speaker][-1]
        finally:
            broadcast.catch_up_all(agents)
            self._run_broadcast = None
            for agent in agents:
                agent.leave_broadcast(broadcast)

    run_chat = sync_twin(a_run_chat)

    # ----------------------------------------------------------------- resume

    def messages_to_string(self, messages: list[dict]) -> str:
        """The transcript as a JSON string, for ``resume`` later."""
        return json.dumps(messages)

    def messages_from_string(self, message_string: str) -> list[dict]:
        """The transcript saved by ``messages_to_string``."""
        try:
            messages = json.loads(message_string)
        except json.JSONDecodeError as error:
            raise ValueError(f"messages string is not valid JSON: {error}") from None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise ValueError("messages string must hold a JSON list of message objects")
        return messages

    def resume(
        self,
        messages: list[dict] | str,
        remove_termination_string: str | Callable[[str], str] | None = None,
        silent: bool | None = False,
    ) -> tuple[ConversableAgent, dict]:
        """Load a saved transcript into the chat; returns ``(last_agent, last_message)``.

        Continue with ``last_agent.initiate_chat(manager, message=last_message, clear_history=False)``.
        Every participant's history is rebuilt as if the chat had run (its own messages
        included, which classic leaves out); the last message is delivered by that call.
        """
        if isinstance(messages, str):
            messages = self.messages_from_string(messages)
        elif isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
            messages = copy.deepcopy(messages)
        else:
            raise TypeError("resume: messages must be a JSON string or a list of message dicts")
        self._valid_resume_messages(messages)
        groupchat = self._groupchat
        for agent in groupchat.agents:
            agent.clear_history()
        self.clear_history()
        groupchat.reset()
        for message in messages[:-1]:
            message.setdefault("name", self.name)
            speaker = _participant(groupchat.agent_by_name(message["name"]) or self)
            role = message.get("role") if message.get("role") in ("tool", "function") else "user"
            received = to_oai_message({**message, "role": role},
                                      "user", speaker.name)
            if received is None:
                raise ValueError(f"resume: message from {message['name']!r} has no content, function_call or tool_calls")
            if speaker is not self:
                speaker.restore_delivery(self, received, None)  # both sides' histories
            self._share(groupchat, received, speaker)
        last_message = messages[-1]
        last_message.setdefault("name", self.name)
        last_agent = groupchat.agent_by_name(last_message["name"]) or self
        if not isinstance(last_agent, ConversableAgent):
            raise TypeError(f"a group chat's agents must be ConversableAgents, not {type(last_agent).__name__}")
        self._process_resume_termination(remove_termination_string, messages)
        if not silent:
            _iostream().print(f"Prepared group chat with {len(messages)} messages, the last speaker is {last_message['name']}",
                              flush=True)
        groupchat.send_introductions = False
        return last_agent, last_message

    def _valid_resume_messages(self, messages: list[dict]) -> None:
        """Raise unless ``messages`` can be resumed: not empty, every named sender in the group chat."""
        if not messages:
            raise ValueError("resume: no messages to resume from; start the chat with initiate_chat instead")
        groupchat = self._groupchat
        known = set(groupchat.agent_names) | {groupchat.admin_name, self.name}
        for i, message in enumerate(messages):
            name = message.get("name")
            if name and name not in known:
                raise ValueError(f"resume: messages[{i}] is from {name!r}, which is not an agent of this group chat")

    def _process_resume_termination(
        self, remove_termination_string: str | Callable[[str], str] | None, messages: list[dict],
    ) -> None:
        """Take the termination text out of the last message (a string is removed, a function maps
        the text), and warn when the message would still end the resumed chat at once."""
        last_message = messages[-1]
        if remove_termination_string is not None and isinstance(last_message.get("content"), str):
            if isinstance(remove_termination_string, str):
                last_message["content"] = last_message["content"].replace(remove_termination_string, "")
            else:
                last_message["content"] = remove_termination_string(last_message["content"])
        if self._is_termination_msg(last_message):
            # A notice for the console, and classic's sentence in the log, where classic put it.
            events.emit(events.Notice(
                text="resume: the last message meets the termination condition, so the resumed chat will end at once "
                "(pass remove_termination_string)",
                level="warning",
            ))
            logger.warning("WARNING: Last message meets termination criteria and this may terminate the chat.")

    async def a_resume(
        self,
        messages: list[dict] | str,
        remove_termination_string: str | Callable[[str], str] | None = None,
        silent: bool | None = False,
    ) -> tuple[ConversableAgent, dict]:
        return self.resume(messages, remove_termination_string, silent)

    # ----------------------------------------------------------------- resuming a stored run

    def check_resumable(self, run_id: str) -> None:
        """Refuse the group chats whose state a rebuild from stored messages would get wrong."""
        groupchat = self._groupchat
        if groupchat.enable_clear_history:
            raise ResumeError(f"run {run_id} is a group chat with enable_clear_history; such group chats can't be resumed yet")
        nested = [a.name for a in groupchat.agents if isinstance(a, GroupChatManager)]
        if nested:
            raise ResumeError(f"run {run_id} is a group chat with nested team(s) {', '.join(map(repr, nested))}; "
                              "such group chats can't be resumed yet")

    def restore_run(self, initiator: Participant, stored: Sequence[StoredDelivery], by_name: Mapping[str, Participant],
                    run_id: str, max_turns: int | None) -> list[StoredDelivery]:
        """Rebuild the transcript and every history from a stored run's messages; returns the
        spoken (non-manager) ones. All but the last are shared as the rounds did; the last is
        shared by ``a_run_rounds`` when the chat goes on."""
        groupchat = self._groupchat
        initiator.prepare_resumed_chat(self, reply_at_receive=max_turns is None)
        spoken = [m for m in stored if m.sender != self._name]
        for stored_message in stored:
            if stored_message.sender == self._name:  # an introduction
                self.restore_delivery(by_name[stored_message.recipient], stored_message.message, None)
                continue
            if stored_message.recipient != self._name:
                raise ResumeError(f"run {run_id} has a message from {stored_message.sender!r} to {stored_message.recipient!r} "
                                  f"in its group chat, which goes through {self._name!r}: not a group chat this can resume")
            sender = by_name[stored_message.sender]
            sender.restore_delivery(self, stored_message.message, stored_message.produced_by)
            if stored_message is not spoken[-1]:
                self._share(groupchat, stored_message.message, sender)
        return spoken

    async def a_continue_run(self, initiator: Participant, stored: Sequence[StoredDelivery], turn_starts: Sequence[int],
                             by_name: Mapping[str, Participant], max_turns: int | None, silent: bool) -> str:
        """Go on with a stored run rebuilt by ``restore_run`` (``stored``: its messages, at least
        one spoken; ``turn_starts``: where each turn began among the spoken ones, ``stored_turn_starts``);
        returns how it ended."""
        spoken = [m for m in stored if m.sender != self._name]
        turn = spoken[turn_starts[-1]:]  # the current turn's messages: its rounds go on from the last
        if len(turn) == 1 and self._groupchat.send_introductions:
            # Each turn's introductions follow its first message (the manager sends them per run).
            self.restore_introductions(stored[next(i for i, m in enumerate(stored) if m is turn[0]):])
        await self.a_run_rounds(self._groupchat, turn[-1].message, by_name[turn[-1].sender], len(turn) - 1)
        if max_turns is None:
            return "completed"
        return await run_turns(initiator, self, len(turn_starts), max_turns, silent)

    def restore_introductions(self, stored: Sequence[StoredDelivery]) -> None:
        """Send the introductions a crash cut short (``stored``: from the turn's first message on;
        they precede its first round)."""
        introduced = {m.recipient for m in stored if m.sender == self._name}
        intro = self._groupchat.introductions_msg()
        for agent in self._groupchat.agents:
            if agent.name not in introduced:
                self.deliver(intro, agent, True)

    # ----------------------------------------------------------------- "clear history"

    def _clear_history_on_request(self, reply: str | dict, groupchat: GroupChat) -> str | dict:
        text = reply if isinstance(reply, str) else reply.get("content")
        if not isinstance(text, str) or "CLEAR HISTORY" not in text.upper():
            return reply
        cleaned = self.clear_agents_history(reply if isinstance(reply, dict) else {"content": reply}, groupchat)
        return cleaned if isinstance(reply, str) else {**reply, "content": cleaned}

    def clear_agents_history(self, reply: dict, groupchat: GroupChat) -> str:
        """Classic "clear history [agent] [n]": clear all (or one agent's) histories, keeping the
        last n messages; returns the reply without the command."""
        stream = _iostream()
        words = reply["content"].split()
        clear_at = next(i for i in reversed(range(len(words) - 1))
                        if words[i].upper() == "CLEAR" and words[i + 1].upper().startswith("HISTORY"))
        keep: int | None = None
        target = None
        for word in words[clear_at + 2: clear_at + 4]:
            digits = word if word.isdigit() else word[:-1]
            if digits.isdigit():
                keep = int(digits)
            else:  # a word that names no agent ("How" in "clear history bob. How ...") changes nothing
                target = groupchat.agent_by_name(word) or groupchat.agent_by_name(word[:-1]) or target
        skipped = 2 + (target is not None) + (keep is not None)
        if "tool_responses" in reply and not keep:
            keep = 1  # the tool call its responses answer must stay
        if target is not None:
            stream.print(f"Clearing history for {target.name}" + (f" except last {keep} messages." if keep else "."))
            _participant(target).clear_history(nr_messages_to_preserve=keep)
        else:
            stream.print("Clearing history for all agents" + (f" except last {keep} messages." if keep else "."))
            kept = groupchat.messages[-keep:] if keep else []
            groupchat.messages.clear()
            groupchat.messages.extend(kept)
            for agent in groupchat.agents:
                agent.clear_history(nr_messages_to_preserve=keep)
        return " ".join(words[:clear_at] + words[clear_at + skipped:])


def stored_turn_starts(spoken: Sequence[StoredDelivery], selections: Sequence[Mapping[str, Any]], initiator: str,
                       run_id: str) -> list[int]:
    """Where each turn of a stored group chat started with ``max_turns`` begins in ``spoken``: each
    turn is the initiator's message, then the rounds the manager ran for it, the message at position
    n of a turn being the one its round-n speaker selection asked for (rounds start again each turn)."""
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


def _participant(agent: Agent | None) -> Participant:
    """A group chat's member as the manager needs it (the classic group chat, too, runs ConversableAgents)."""
    if not isinstance(agent, Participant):
        raise TypeError(f"a group chat's agents must be ConversableAgents, not {type(agent).__name__}")
    return agent
