"""The team a fan-out runs, in a form every worker can rebuild: a spec document (``Team``, a
file path or a dict) or the import path of a factory ``module:function`` returning
``(initiator, recipient, chat_kwargs)``. Plain data, so it pickles to Ray workers; each worker
builds fresh agents per chat (agents hold a chat's state)."""

from __future__ import annotations

import importlib
import os
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec import SpecError, Team


@dataclass
class BuiltChat:
    """The agents of one chat and how it starts."""

    initiator: Any
    recipient: Any
    chat_kwargs: dict
    agents: list
    template: str
    chat_queue: list[dict] | None = None  # a spec's sequential chats
    built_team: Any = None  # the spec's BuiltTeam


@dataclass
class TeamSource:
    document: dict | None = None
    factory: str | None = None
    allow_modules: tuple[str, ...] = ()
    allow_env: tuple[str, ...] = ()
    allow_work_dirs: tuple[str, ...] = ()
    model: str | None = None  # None: the spec's models; "scripted": its fixed script
    _team: Team | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, team: Any, **grants: Any) -> TeamSource:
        if isinstance(team, Team):
            return cls(document=team.to_dict(), **grants)
        if isinstance(team, dict):
            return cls(document=Team.from_dict(team).to_dict(), **grants)
        if isinstance(team, (str, os.PathLike)):
            text = os.fspath(team)
            if ":" in text and not Path(text).exists():
                module, _, function = text.partition(":")
                if not module or not function.isidentifier():
                    raise ValueError(f"team: a factory is 'module:function', got {text!r}")
                return cls(factory=text, **grants)
            return cls(document=Team.from_file(text).to_dict(), **grants)
        raise TypeError(f"team must be a parley.spec.Team, a spec file path, a spec dict or 'module:function'; "
                        f"got {type(team).__name__}")

    @property
    def team(self) -> Team | None:
        if self.document is None:
            return None
        if self._team is None:
            self._team = Team.from_dict(self.document)
        return self._team

    @property
    def places_agents(self) -> bool:
        """Whether building the team starts actors for placed agents (a spec's ``placement:``)."""
        team = self.team
        return team is not None and any(agent.placement is not None for agent in team.spec.agents.values())

    def build(self) -> BuiltChat:
        """Fresh agents for one chat."""
        team = self.team
        if team is not None:
            built = team.build(allow_modules=self.allow_modules, model=self.model, allow_env=self.allow_env,
                               allow_work_dirs=self.allow_work_dirs)
            return BuiltChat(built.initiator, built.recipient, dict(built.chat_kwargs), list(built.agents.values()),
                             team.spec.run.message or "{task}", built.chat_queue, built)
        assert self.factory is not None
        module_name, _, function_name = self.factory.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        made = function()
        if not (isinstance(made, tuple) and len(made) == 3 and isinstance(made[2], dict)):
            raise TypeError(f"team factory {self.factory} must return (initiator, recipient, chat_kwargs)")
        initiator, recipient, chat_kwargs = made
        chat_kwargs = dict(chat_kwargs)
        template = chat_kwargs.pop("message", None) or "{task}"
        if not isinstance(template, str):
            raise TypeError(f"team factory {self.factory}: chat_kwargs['message'] must be a str template")
        agents = [initiator, recipient]
        groupchat = getattr(recipient, "groupchat", None)
        if groupchat is not None:  # a group chat's participants are the run's agents too
            agents += [agent for agent in groupchat.agents if agent is not initiator]
        return BuiltChat(initiator, recipient, chat_kwargs, agents, template)


def first_message(template: str, task: Any, index: int) -> str:
    """The chat's first message: ``template`` with ``{task}`` (a str task) or the task dict's
    variables filled in. Only bare names, as spec templates; a missing one is an error naming it."""
    variables = {"task": task} if isinstance(task, str) else task
    if not isinstance(variables, dict):
        raise SpecError(f"a task must be a message (str) or a dict of template variables, got {type(task).__name__}",
                        f"tasks[{index}]")
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise SpecError(f"template field {{{name}}} must be a bare name", "run.message")
        if name not in variables:
            raise SpecError(f"the message template needs {{{name}}}; this task does not give it", f"tasks[{index}].{name}")
        parts.append(str(variables[name]))
    return "".join(parts)
