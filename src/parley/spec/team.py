"""``Team``: a team spec as an object: load (file, YAML/JSON text, dict), dump, validate, build
and run; ``Team.from_agents`` captures a team built in Python."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from .document import TeamSpec, dump
from .errors import SpecError
from .loading import load_text, validate_document


@dataclass
class ValidationReport:
    """What validation says without refusing."""

    unsandboxed: list[str] = field(default_factory=list)
    """Agents whose code runs on this machine without a sandbox (asked for in the spec)."""
    imports: list[str] = field(default_factory=list)
    """Modules a build imports (each must be allowed)."""
    not_allowed: list[str] = field(default_factory=list)
    """Of those, the ones not allowed now."""
    env: list[Any] = field(default_factory=list)
    """Environment variables a build reads and where each goes (``access.EnvRead``)."""
    env_not_allowed: list[str] = field(default_factory=list)
    work_dirs: list[Any] = field(default_factory=list)
    """work_dirs outside the run's folder (``access.OutsideWorkDir``)."""
    work_dirs_allowed: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Whether a build with the same grants would refuse the spec."""
        return bool(self.not_allowed or self.env_not_allowed
                    or any(o.value not in self.work_dirs_allowed for o in self.work_dirs))

    def lines(self) -> list[str]:
        lines = [f"agents.{name}.code_execution_config: runs code UNSANDBOXED on this machine (asked for in the spec)"
                 for name in self.unsandboxed]
        lines += [o.line(o.value in self.work_dirs_allowed) for o in self.work_dirs]
        lines += [r.line(r.name not in self.env_not_allowed) for r in self.env]
        lines += [f"imports module {m}" + (" (NOT allowed: pass --allow-module " + m + ")" if m in self.not_allowed else "")
                  for m in self.imports]
        return lines


class Team:
    """A validated team spec (``.spec``, a TeamSpec)."""

    def __init__(self, spec: TeamSpec) -> None:
        if not isinstance(spec, TeamSpec):
            raise TypeError(f"Team needs a TeamSpec; use Team.from_file / from_yaml / from_dict, not {type(spec).__name__}")
        self.spec = spec

    # ------------------------------------------------------------------ loading and dumping

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Team:
        with open(path, encoding="utf-8") as file:
            return cls(load_text(file.read(), str(path)))

    @classmethod
    def from_yaml(cls, text: str) -> Team:
        """From YAML text (JSON is YAML too)."""
        return cls(load_text(text))

    @classmethod
    def from_dict(cls, document: dict) -> Team:
        return cls(validate_document(document))

    def to_dict(self) -> dict:
        return dump(self.spec)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @property
    def digest(self) -> str:
        """sha256 of the document (canonical JSON): the same team, the same hash."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def name(self) -> str | None:
        return self.spec.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Team) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Team({self.spec.name or '?'!r}, agents={list(self.spec.agents)})"

    @classmethod
    def from_agents(cls, initiator: Any, recipient: Any = None, **chat_kwargs: Any) -> Team:
        """The spec of a team built in Python: every agent reachable from ``initiator`` and
        ``recipient`` (their group chats and nested chats), started as
        ``initiator.initiate_chat(recipient, **chat_kwargs)`` (or, with ``chat_queue=``, as its
        sequential chats). What can't be written (a lambda, a literal API key) is a SpecError
        naming the agent and parameter."""
        from .capture import capture

        return cls.from_dict(capture(initiator, recipient, chat_kwargs))

    # ------------------------------------------------------------------ checking

    def validate(self, allow_modules: tuple[str, ...] | list[str] = (), *, allow_env: tuple[str, ...] | list[str] = (),
                 allow_work_dirs: tuple[str, ...] | list[str] = ()) -> ValidationReport:
        """The spec is valid (or it would not have loaded); this reports what to know before a
        run: code run unsandboxed, work_dirs outside the run's folder, environment variables read
        and where they go, modules imported; each with whether the grants given allow it."""
        from .access import env_allowed, env_reads, outside_work_dirs
        from .imports import allowed_modules, is_allowed
        from .references import imported_modules, unsandboxed_agents

        allowed = allowed_modules(allow_modules)
        modules = imported_modules(self.spec)
        reads = env_reads(self.spec)
        outside = outside_work_dirs(self.spec)
        return ValidationReport(unsandboxed_agents(self.spec), modules, [m for m in modules if not is_allowed(m, allowed)],
                                reads, [r.name for r in reads if not env_allowed(r, allow_env)],
                                outside, [o.value for o in outside if o.value in set(allow_work_dirs)])

    def check(self, allow_modules: tuple[str, ...] | list[str] = ()) -> Any:
        """Walk the team on a scripted model (see ``parley.spec.check``)."""
        from .check import check_team

        return check_team(self, allow_modules)

    # ------------------------------------------------------------------ running

    def build(self, *, allow_modules: tuple[str, ...] | list[str] = (), model: str | None = None,
              scripted: dict | None = None, allow_env: tuple[str, ...] | list[str] = (),
              allow_work_dirs: tuple[str, ...] | list[str] = (), record: list | None = None) -> Any:
        """The agents and how the run starts (a BuiltTeam); imports happen here. See
        ``parley.spec.access`` for what ``allow_env`` and ``allow_work_dirs`` grant."""
        from .build import build

        return build(self.spec, allow_modules=allow_modules, model=model, scripted=scripted, allow_env=allow_env,
                     allow_work_dirs=allow_work_dirs, record=record)

    def run(self, message: str | None = None, **options: Any) -> Any:
        """Build and run the team; ``message`` is the task (``{task}`` in run.message). Returns the
        ChatResult (a list of them for sequential chats). Options: allow_modules, allow_env,
        allow_work_dirs, model, silent, built (a BuiltTeam to run instead of building one)."""
        from .._sync import run_sync

        return run_sync(self.a_run(message, **options))

    async def a_run(self, message: str | None = None, *, allow_modules: tuple[str, ...] | list[str] = (),
                    model: str | None = None, silent: bool = False, built: Any = None,
                    allow_env: tuple[str, ...] | list[str] = (), allow_work_dirs: tuple[str, ...] | list[str] = ()) -> Any:
        from ..chat.sequential import a_run_chats_in_order

        built = built or self.build(allow_modules=allow_modules, model=model, allow_env=allow_env,
                                    allow_work_dirs=allow_work_dirs)
        task = message if message is not None else self.spec.run.task
        if built.chat_queue is not None:
            return await a_run_chats_in_order(self.chat_queue(built, task, silent))
        first = built.first_message(self.spec.run.message, task)
        if self.spec.agents[self.spec.run.initiator].class_ == "RetrieveUserProxyAgent":
            # Classic's idiom: the first message is the retrieved context for the problem.
            return await built.initiator.a_initiate_chat(built.recipient, message=built.initiator.message_generator,
                                                         problem=first, silent=silent, **built.chat_kwargs)
        return await built.initiator.a_initiate_chat(built.recipient, message=first, silent=silent, **built.chat_kwargs)

    def chat_queue(self, built: Any, task: str | None, silent: bool = False) -> list[dict]:
        """The sequential chats of ``built`` for ``task``, as initiate_chats takes them."""
        queue = built.queue_for(task)
        if silent:
            queue = [{**chat, "silent": True} for chat in queue]
        return queue


__all__ = ["SpecError", "Team", "ValidationReport"]
