"""What a team spec from the browser may ask for. The spec rules hold (no code in a spec, keys
only by reference), and the Studio adds its own, since the browser is not the server's owner:

- models are the server's: a model's ``config_list`` must be the reference to the server's
  ``OAI_CONFIG_LIST`` (a ``filter_dict`` picks entries); entries written out are refused, since an
  ``api_key: {env: NAME}`` with a ``base_url`` of the page's choosing would send any environment
  variable of the server to any host;
- import paths (tools, termination and speaker-selection functions) only from the modules the
  server allows (``--allow-module``; ``parley.spec.tools`` always);
- code runs in the sandbox: a spec asking for unsandboxed execution (``use_docker: false``,
  ``executor: local`` / ``jupyter``) gets it only from a server started with
  ``--allow-unsandboxed``; otherwise its executor is the sandbox, and a note says so;
- a ``work_dir`` is a relative path (no ``..``, not absolute); each run's code works in a folder
  of its own (``.parley/studio/runs/<run id>/``, the spec's ``work_dir`` inside it), so that the
  runs of one user, or of two, don't see each other's files;
- a RetrieveUserProxyAgent reads documents only from the folders (or exact URLs) the server's
  owner allows (``--allow-docs``): the server's own files (its config list, its run store) would
  otherwise go into prompts and transcripts. Its index (``db_config.path``) is kept in the run's
  folder too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

from ..spec import SpecError, Team
from ..spec.access import work_dir_problem
from ..spec.errors import SpecIssue

SERVER_MODELS = "OAI_CONFIG_LIST"


FILTER_KEYS = ("model", "tags", "api_type")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def docs_allowed(value: str, allow_docs: Iterable[str]) -> bool:
    """Whether ``value`` (a docs_path entry) is an allowed URL, or a path in an allowed folder
    (links followed, relative to the server's folder)."""
    from ..retrieval.documents import is_url

    allow_docs = tuple(allow_docs)
    if is_url(value) or "://" in value:
        return value in allow_docs
    real = os.path.realpath(value)
    for folder in allow_docs:
        if is_url(folder) or "://" in folder:
            continue
        base = os.path.realpath(folder)
        if os.path.commonpath([real, base]) == base:
            return True
    return False


def docs_paths(team: Team) -> list[str]:
    """Every docs_path entry of ``team``'s retrieval agents (the build's grants, once checked)."""
    return [value for agent in team.spec.agents.values() if agent.retrieve_config is not None
            for field, value in agent.retrieve_config.paths() if field == "docs_path"]


def studio_team(document: Any, *, allow_unsandboxed: bool, allow_modules: tuple[str, ...] = (),
                allow_docs: tuple[str, ...] = ()) -> tuple[Team, list[str]]:
    """The team a browser's spec stands for, under the Studio's rules, and notes on what was
    changed (the sandbox put in place of unsandboxed execution). SpecError lists every problem,
    each naming its path."""
    if not isinstance(document, dict):
        raise SpecError(f"a team spec must be a JSON object, got {type(document).__name__}", "")
    team = Team.from_dict(document)
    data = team.to_dict()
    issues: list[SpecIssue] = []
    for name, model in (data.get("models") or {}).items():
        config_list = model.get("config_list")
        where = f"models.{name}.config_list"
        if not isinstance(config_list, dict):
            issues.append(SpecIssue(where, f"Studio runs use the server's models: write {{env_or_file: {SERVER_MODELS}, "
                                           "filter_dict: {model: NAME}} (GET /api/models lists them)"))
        elif config_list.get("env_or_file", SERVER_MODELS) != SERVER_MODELS or config_list.get("file_location"):
            issues.append(SpecIssue(where, f"Studio runs use the server's models: env_or_file must be {SERVER_MODELS}, "
                                           "without file_location"))
        else:
            # Only public fields: a filter on api_key or base_url would confirm guesses of hidden values.
            # (filter_dict is a mapping or absent: the spec's own rule, checked when the team loaded.)
            for key in config_list.get("filter_dict") or {}:
                if key not in FILTER_KEYS:
                    issues.append(SpecIssue(f"{where}.filter_dict.{key}", f"a Studio run may filter the server's models only "
                                                                          f"by {', '.join(FILTER_KEYS)}"))
    notes: list[str] = []
    for name, agent in team.spec.agents.items():
        teach_path = agent.teachability.path_to_db_dir if agent.teachability is not None else None
        if teach_path is not None and work_dir_problem(teach_path) is not None:
            issues.append(SpecIssue(f"agents.{name}.teachability.path_to_db_dir",
                                    f"must be a relative folder without '..' (it is placed in the run's folder), "
                                    f"got {teach_path!a}"))
        if agent.retrieve_config is None:
            continue
        for field, value in agent.retrieve_config.paths():
            if field != "docs_path":  # the index: a folder in the run's folder (with_run_folder)
                if work_dir_problem(value) is not None:
                    issues.append(SpecIssue(f"agents.{name}.retrieve_config.{field}",
                                            f"must be a relative folder without '..' (it is placed in the run's folder), "
                                            f"got {value!a}"))
                continue
            if not docs_allowed(value, allow_docs):
                issues.append(SpecIssue(f"agents.{name}.retrieve_config.docs_path",
                                        f"{value!a} is not in a folder this server allows documents from (its owner can "
                                        f"allow one with parley studio --allow-docs FOLDER); allowed now: "
                                        f"{', '.join(map(ascii, allow_docs)) or 'none'}"))
    for name, agent in (data.get("agents") or {}).items():
        config = agent.get("code_execution_config")
        if not isinstance(config, dict):
            continue
        where = f"agents.{name}.code_execution_config"
        work_dir = config.get("work_dir")
        if isinstance(work_dir, str):
            folder = PurePosixPath(work_dir.replace("\\", "/"))
            drive_letter = len(work_dir) > 1 and work_dir[1] == ":"
            if folder.is_absolute() or ".." in folder.parts or work_dir.startswith("~") or drive_letter:
                issues.append(SpecIssue(f"{where}.work_dir", f"must be a relative folder inside the server's folder, without "
                                                             f"'..', got {work_dir!r}"))
        unsandboxed = config.get("use_docker") is False or config.get("executor") in ("local", "jupyter")
        if unsandboxed and not allow_unsandboxed:
            config.pop("use_docker", None)
            config["executor"] = "sandbox"
            notes.append(f"{where}: the spec asks for unsandboxed execution, which this server does not allow "
                         "(start it with --allow-unsandboxed): code runs in the sandbox")
        elif unsandboxed:
            notes.append(f"{where}: runs code UNSANDBOXED on the server (asked for in the spec, allowed by the server)")
    report = team.validate(allow_modules)
    for module in report.not_allowed:
        paths = [path for path, value in _strings(data, "") if value.startswith(module + ":")] or ["<document>"]
        for path in paths:
            issues.append(SpecIssue(path, f"module {module!r} is not allowed on this server (the server's owner can "
                                          f"allow it with parley studio --allow-module {module})"))
    if issues:
        raise SpecError(issues)
    return (Team.from_dict(data) if notes and not allow_unsandboxed else team), notes


def issues_json(error: SpecError) -> list[dict]:
    return [{"path": issue.path, "message": issue.message, **({"line": issue.line} if issue.line else {})}
            for issue in error.issues]


RUNS_FOLDER = ".parley/studio/runs"


def with_run_folder(team: Team, run_id: str) -> Team:
    """``team`` with every code-executing agent's ``work_dir`` inside the run's own folder (a user
    proxy that does not say gets ``work``, the rest of its defaults kept)."""
    data = team.to_dict()
    changed = False
    for agent in (data.get("agents") or {}).values():
        retrieve = agent.get("retrieve_config")
        if isinstance(retrieve, dict):  # the index too: a run's own, in its folder
            db_config = retrieve.setdefault("db_config", {})
            db_config["path"] = f"{RUNS_FOLDER}/{run_id}/{db_config.get('path') or 'index'}"
            changed = True
        teach = agent.get("teachability")
        if isinstance(teach, dict):  # a run's memos are its own, in its folder
            teach["path_to_db_dir"] = f"{RUNS_FOLDER}/{run_id}/{teach.get('path_to_db_dir') or 'memos'}"
            changed = True
        config = agent.get("code_execution_config")
        if config is None and agent.get("class") == "UserProxyAgent":
            config = agent["code_execution_config"] = {}  # the class's default: code execution on
        if isinstance(config, dict):
            config["work_dir"] = f"{RUNS_FOLDER}/{run_id}/{config.get('work_dir') or 'work'}"
            changed = True
    return Team.from_dict(data) if changed else team
