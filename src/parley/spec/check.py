"""``parley spec check``: walk a team on a scripted model and report what the document alone
can't show: agents that never speak, group chat transitions that can't be used or were not taken,
a run that does not end.

The walk builds the team with the scripted model (speaker selections name the candidate chosen
least so far, so every agent the rules let in gets its turn), answers every human question with
an empty line (the agent's auto-reply) and then ``exit``, and runs it silently in a temporary
folder. Nothing the spec asks to run runs: every code executor is a ``RecordingExecutor`` and
every tool a stand-in with its signature (``recording_tool``); both only record what they were
given. Termination and speaker selection functions (from modules the user allowed) are called,
as they steer the walk.
"""

from __future__ import annotations

import functools
import itertools
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
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
    recorded: list[tuple[str, str]] = field(default_factory=list)
    """(agent or tool, what it was asked to run): recorded by the walk, never run."""

    @property
    def ok(self) -> bool:
        return not self.silent and not self.unusable_transitions and self.error is None and self.ended is not None

    def lines(self) -> list[str]:
        lines = [f"agents.{name}: never speaks in the walk (not reachable)" for name in self.silent]
        lines += [f"{t}: can't be used (one side never speaks)" for t in self.unusable_transitions]
        lines += [f"{t}: not taken in the walk (warning)" for t in self.untaken_transitions]
        lines += [f"{who}: asked to run {what} (recorded, not run)" for who, what in self.recorded]
        if self.error is not None:
            lines.append(f"run: failed: {self.error}")
        elif self.ended is None:
            lines.append("run: did not end")
        else:
            lines.append(f"run: ends ({self.ended}); speakers: {', '.join(self.spoke)}")
        return lines


class RecordingExecutor:
    """A code executor that runs nothing: it records the blocks it is given."""

    executor_name = "check"

    def __init__(self, agent: str, record: list) -> None:
        self.agent, self.record = agent, record

    @property
    def work_dir(self) -> Path:
        return Path(os.getcwd())

    def execute_code_blocks(self, code_blocks: list) -> Any:
        from ..code.base import CodeResult

        languages = ", ".join(sorted({b.language or "?" for b in code_blocks}))
        self.record.append((f"agents.{self.agent}", f"{len(code_blocks)} code block(s) ({languages})"))
        return CodeResult(exit_code=0, output="(parley spec check: code is recorded, not run)")

    def restart(self) -> None:
        pass


def recording_tool(name: str, function: Any, record: list) -> Any:
    """A stand-in for ``function`` (its name, signature and description) that records the call."""

    @functools.wraps(function)
    def stand_in(*args: Any, **kwargs: Any) -> str:
        record.append((f"tools.{name}", "a call"))
        return "(parley spec check: the tool is recorded, not run)"

    return stand_in


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
    recorded: list = []
    built = team.build(allow_modules=allow_modules, model="scripted",
                       scripted={"terminate_after": walk_length, "explore": {}}, record=recorded)
    report = CheckReport(recorded=recorded)
    before, console_sink.enabled = console_sink.enabled, False
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="parley-check-") as folder, events.capture() as seen, set_default(_Answers()):
        os.chdir(folder)  # code the scripted team might run stays in a throwaway folder
        try:
            _run(team, built)
        except Exception as error:  # the report says how the run failed
            report.error = f"{type(error).__name__}: {error}"
        finally:
            os.chdir(cwd)
            console_sink.enabled = before
    sent = seen.of(events.MessageSent)
    finished = list(seen.of(events.ChatFinished))
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


__all__ = ["CheckReport", "RecordingExecutor", "check_team", "recording_tool"]
