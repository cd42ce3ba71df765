"""Showing each group-chat message to every participant, at a cost flat in the number of agents.

Classic AutoGen appends every message to every participant's history (and to the manager's
history with each of them) as it is said: N agents, 2N appends a message, in Python. Here the
manager logs each message once, in the two forms the histories hold (the participants' "user"
form and the manager's "assistant" form), and a participant's histories are brought up to date
with two C-level ``list.extend`` calls of the log's tail when it matters: before it speaks,
when anyone reads its history through the public accessors (``chat_messages``,
``last_message``, ``chat_messages_for_summary``), and for everyone when the run ends.

Why this is exact: a participant's own messages reach its histories when it says them (the
speaker's delivery to the manager), and it is always caught up just before, so the log's tail
past its mark never holds a message of its own; extending with that tail gives the same lists,
in the same order, as appending every message to everyone at once.
"""

from __future__ import annotations

from ..agents.agent import Agent
from ..chat.participant import Participant


class Broadcast:
    """The messages of one group-chat run, and how far each participant's histories have got."""

    __slots__ = ("manager", "manager_histories", "shared", "as_sent", "marks")

    def __init__(self, manager: Participant, manager_histories: dict[Agent, list[dict]]) -> None:
        self.manager = manager
        self.manager_histories = manager_histories  # the manager's own (it runs the broadcast): no call per message
        self.shared: list[dict] = []  # as the participants hold them ("user", the speaker's name)
        self.as_sent: list[dict] = []  # as the manager holds them with each participant ("assistant")
        self.marks: dict[Participant, int] = {}  # participant -> log entries already in its histories

    def add(self, shared: dict, as_sent: dict, speaker: Participant) -> None:
        """Log a message ``speaker`` said: it is in its own histories already (its delivery put
        it there), and the speaker was caught up before it spoke."""
        self.shared.append(shared)
        self.as_sent.append(as_sent)
        self.marks[speaker] = len(self.shared)

    def catch_up(self, agent: Participant) -> None:
        """Bring ``agent``'s history with the manager, and the manager's with it, up to date."""
        mark = self.marks.get(agent, 0)
        end = len(self.shared)
        if mark < end:
            agent.extend_history(self.manager, self.shared[mark:end])
            self.manager_histories[agent].extend(self.as_sent[mark:end])
            self.marks[agent] = end

    def catch_up_all(self, agents: list[Participant]) -> None:
        for agent in agents:
            self.catch_up(agent)
