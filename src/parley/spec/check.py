"""``parley spec check``: walk a team on a scripted model and report what the document alone
can't show: agents that never speak, group chat transitions that can't be used or were not taken,
a run that does not end.

The walk builds the team with the scripted model (speaker selections name the candidate chosen
least so far, so every agent the rules let in gets its turn), answers every human question with
an empty line (the agent's auto-reply) and then ``exit``, and runs it silently in a temporary
folder. Tools are registered but not called.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

MAX_HUMAN_ANSWERS = 40


@dataclass
class CheckReport:
    spoke: list[str] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)
    """Agents that never sent a message (managers relay and are not counted)."""
    unusable_transitions: list[str] = field(default_factory=list)
    """Allowed transitions from or to an agent that never spoke."""
    untaken_transitions: list[str] = field(default_factory=list)
    ended: str | None = None
    """Why the run ended (terminated, max_turns, ...), None when it did not."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.silent and not self.unusable_transitions and self.error is None and self.ended is not None

    def lines(self) -> list[str]:
        lines = [f"agents.{name}: never speaks in the walk (not reachable)" for name in self.silent]
        lines += [f"{t}: can't be used (one side never speaks)" for t in self.unusable_transitions]
        lines += [f"{t}: not taken in the walk (warning)" for t in self.untaken_transitions]
        if self.error is not None:
            lines.append(f"run: failed: {self.error}")
        elif self.ended is None:
            lines.append("run: did not end")
        else:
            lines.append(f"run: ends ({self.ended}); speakers: {', '.join(self.spoke)}")
        return lines


class _Answers:
    """Human input for the walk: an empty line (auto-reply) a number of times, then exit."""

    def __init__(self) -> None:
        self.asked = 0

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        pass

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        self.asked += 1
        return "" if self.asked <= MAX_HUMAN_ANSWERS else "exit"

    async def a_input(self, prompt: str = "", *, password: bool = False) -> str:
        return self.input(prompt)


def check_team(team: Any, allow_modules: tuple[str, ...] | list[str] = ()) -> CheckReport:
    from .. import events
    from ..io import set_default
    from ..io.console import console_sink

    spec = team.spec
    walk_length = 4 * len(spec.agents) + 4
    built = team.build(allow_modules=allow_modules, model="scripted",
                       scripted={"terminate_after": walk_length, "explore": {}})
    report = CheckReport()
    before, console_sink.enabled = console_sink.enabled, False
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="parley-check-") as folder, events.capture() as seen, set_default(_Answers()):
        os.chdir(folder)  # code the scripted team might run stays in a throwaway folder
        try:
            _run(team, built)
        except Exception as error:  # noqa: BLE001 - the report says how the run failed
            report.error = f"{type(error).__name__}: {error}"
        finally:
            os.chdir(cwd)
            console_sink.enabled = before
    sent = seen.of(events.MessageSent)
    finished = [e for e in seen.of(events.ChatFinished)]
    if finished:
        report.ended = finished[-1].reason
    speakers = [e.sender for e in sent]
    report.spoke = list(dict.fromkeys(speakers))
    managers = {name for name, a in spec.agents.items() if a.class_ == "GroupChatManager"}
    report.silent = [name for name in spec.agents if name not in report.spoke and name not in managers]
    for gname, group in (spec.group_chats or {}).items():
        transitions = group.allowed_or_disallowed_speaker_transitions
        if not transitions:
            continue
        members = set(group.agents)
        if group.speaker_transitions_type == "disallowed":
            transitions = {s: [t for t in group.agents if t not in targets] for s, targets in
                           {s: transitions.get(s, []) for s in group.agents}.items()}
        manager = next(n for n, a in spec.agents.items() if a.groupchat == gname)
        order = [e.sender for e in sent if e.recipient == manager and e.sender in members]
        taken = set(itertools.pairwise(order))
        for source, targets in transitions.items():
            for target in targets:
                where = f"group_chats.{gname}.transitions {source} -> {target}"
                if source not in report.spoke or target not in report.spoke:
                    report.unusable_transitions.append(where)
                elif (source, target) not in taken:
                    report.untaken_transitions.append(where)
    return report


def _run(team: Any, built: Any) -> Any:
    task = team.spec.run.task or "a task for the check"
    return team.run(task, built=built, silent=True)


__all__ = ["CheckReport", "check_team"]
