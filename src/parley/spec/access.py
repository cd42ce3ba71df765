"""What a spec reaches outside itself, and what the user must grant for it.

A spec is a file someone else may have written. Two things it names reach this machine:

- environment variables (``api_key: {env: NAME}``), whose values are sent to the entry's
  endpoint, which the spec also chooses. Validation lists each variable and where it goes; a
  build reads only names shaped like model keys (``*_API_KEY``, ``*_TOKEN``) unless the user
  grants the name (``allow_env=`` / ``--allow-env NAME``). An entry written in a spec with its own
  ``base_url`` and no ``api_key`` gets no key from the environment (the client would otherwise
  send $OPENAI_API_KEY there).
- the folder code runs in (``code_execution_config.work_dir``): a relative path, without ``~``
  or ``..``, naming a folder under the run's current directory (after links are followed).
  Anything else is refused unless the user grants that exact value (``allow_work_dirs=`` /
  ``--allow-work-dir VALUE``), and then reported.
- the paths a RetrieveUserProxyAgent reads and writes (``retrieve_config.docs_path``, a URL
  included, and ``retrieve_config.db_config.path``, where Chroma keeps its index): the same rule
  and the same grant as a work_dir; a URL is always outside (it is fetched from the network).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from .document import ConfigListReference, ModelEntry, TeamSpec
from .errors import SpecError, SpecIssue

# Names a spec may read without a grant: what model providers call their keys.
KEY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*_(API_KEY|TOKEN)$")
# Names of a config list (the classic OAI_CONFIG_LIST and its variants), read as JSON or a file path.
CONFIG_LIST_NAME = re.compile(r"^[A-Za-z0-9_]*CONFIG_LIST[A-Za-z0-9_.]*$")
# The placeholder an entry gets instead of a key from the environment (see models/secrets.py).
NO_KEY = "no-key"
# Where each kind of entry sends its key when it has no base_url, and the variable the client
# reads when the entry has no key.
_DEFAULTS = {"openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
             "anthropic": ("https://api.anthropic.com", "ANTHROPIC_API_KEY"),
             "azure": (None, "AZURE_OPENAI_API_KEY")}
_OFFICIAL_HOSTS = ("api.openai.com", "api.anthropic.com")


@dataclass(frozen=True)
class EnvRead:
    """An environment variable a build reads, and where its value goes."""

    path: str
    name: str
    endpoint: str
    implicit: bool = False
    """Read by the model client because the entry has no api_key (not written in the spec)."""
    config_list: bool = False
    """A config list's variable (or file name), not a key."""

    def line(self, allowed: bool) -> str:
        how = "the client reads" if self.implicit else "reads"
        what = f"a config list from ${self.name} (or the file {self.name})" if self.config_list else f"${self.name}"
        text = f"{self.path}: {how} {what}, sent to {self.endpoint}"
        return text if allowed else text + f" (NOT allowed: pass --allow-env {self.name})"


@dataclass(frozen=True)
class OutsideWorkDir:
    """A work_dir (or a retrieval's docs_path, db_config.path) that is not under the run's directory."""

    path: str
    value: str
    why: str
    field: str = "work_dir"

    def line(self, allowed: bool) -> str:
        text = f"{self.path}: {self.field} {self.value!a} {self.why}"
        return text + (" (allowed by --allow-work-dir)" if allowed else f" (NOT allowed: pass --allow-work-dir {self.value!a})")


def _kind(entry: ModelEntry) -> str:
    return (entry.api_type or "openai").lower()


def official(base_url: str | None) -> bool:
    """Whether ``base_url`` is the provider's own endpoint (None: the client's default)."""
    if base_url is None:
        return True
    host = (urllib.parse.urlsplit(base_url).hostname or "").lower()
    return host in _OFFICIAL_HOSTS or host.endswith(".openai.azure.com")


def _endpoint(entry: ModelEntry) -> str:
    if entry.base_url is not None:
        return entry.base_url
    if _kind(entry) == "local":
        return "the embedded model (no network)"
    return (_DEFAULTS.get(_kind(entry)) or ("the provider's default endpoint", ""))[0] or "the provider's default endpoint"


def env_reads(spec: TeamSpec) -> list[EnvRead]:
    """Each environment variable a build of ``spec`` reads for its models, and where it goes."""
    reads: list[EnvRead] = []
    used = {a.llm_config for a in spec.agents.values() if isinstance(a.llm_config, str)}
    for name, model in (spec.models or {}).items():
        if name not in used:
            continue
        where = f"models.{name}.config_list"
        if isinstance(model.config_list, ConfigListReference):
            ref = model.config_list
            reads.append(EnvRead(where, ref.env_or_file, "the endpoints that config list names (your own variable or file)",
                                 config_list=True))
            continue
        for i, entry in enumerate(model.config_list):
            if entry.api_key is not None:
                reads.append(EnvRead(f"{where}[{i}].api_key", entry.api_key.env, _endpoint(entry)))
            elif _kind(entry) in _DEFAULTS and official(entry.base_url):
                reads.append(EnvRead(f"{where}[{i}]", _DEFAULTS[_kind(entry)][1], _endpoint(entry), implicit=True))
    return reads


def env_allowed(read: EnvRead, allow_env: Iterable[str]) -> bool:
    """A key-shaped name (a config list's name for a config list reference), or a name the user granted."""
    if read.implicit or read.name in set(allow_env):
        return True
    return bool((CONFIG_LIST_NAME if read.config_list else KEY_NAME).match(read.name))


def check_env(spec: TeamSpec, allow_env: Iterable[str]) -> None:
    allow_env = tuple(allow_env)
    refused = [r for r in env_reads(spec) if not env_allowed(r, allow_env)]
    if refused:
        raise SpecError([SpecIssue(r.path, f"the spec reads ${r.name} and sends it to {r.endpoint}; only key-shaped "
                                           f"names (*_API_KEY, *_TOKEN) are read unless you allow it: --allow-env {r.name} "
                                           f"(allow_env=[{r.name!r}])") for r in refused])


def key_for_entry(entry: ModelEntry) -> str | None:
    """The api_key to put in a spec entry that names none: None (the client reads the provider's
    variable) for the provider's own endpoint, else a placeholder, so the user's key never goes
    to an endpoint the spec chose without the spec saying so (api_key: {env: NAME})."""
    if entry.api_key is not None or official(entry.base_url) or _kind(entry) in ("local", "scripted"):
        return None
    return NO_KEY


def work_dir_problem(value: str) -> str | None:
    """Why ``value`` (as written) is not a folder under the run's directory, else None."""
    if not value.strip() or "\0" in value:
        return "is empty or not a path"
    if value.startswith("~"):
        return "starts with ~ (a home folder)"
    if os.path.isabs(value) or value.startswith("\\"):
        return "is an absolute path"
    parts = PurePosixPath(value.replace("\\", "/")).parts
    if ".." in parts:
        return "goes up with .."
    if not parts or all(p == "." for p in parts):
        return "is the run's folder itself (code could change everything in it)"
    return None


def _outside(base: str, value: str) -> str | None:
    why = work_dir_problem(value)
    if why is None:
        real = os.path.realpath(os.path.join(base, value))
        if os.path.commonpath([real, base]) != base or real == base:
            why = f"leads out of the run's folder (to {real})"
    return why


def outside_work_dirs(spec: TeamSpec, cwd: str | None = None) -> list[OutsideWorkDir]:
    """The work_dirs of ``spec`` that are not folders under ``cwd`` (default: the current
    directory), links followed where they exist; and the retrieval paths (docs_path, URLs
    included, and db_config.path) that are not under it."""
    from ..retrieval.documents import is_url

    found = []
    base = os.path.realpath(cwd or os.getcwd())
    for name, agent in spec.agents.items():
        config = agent.code_execution_config
        if config and config.work_dir is not None:
            why = _outside(base, config.work_dir)
            if why is not None:
                found.append(OutsideWorkDir(f"agents.{name}.code_execution_config", config.work_dir, why))
        paths = agent.retrieve_config.paths() if agent.retrieve_config is not None else []
        if agent.teachability is not None and agent.teachability.path_to_db_dir is not None:
            paths.append(("teachability.path_to_db_dir", agent.teachability.path_to_db_dir))
        if paths:
            for field, value in paths:
                # A URL is downloaded; anything shaped like one (ftp:, file:) is refused the same way.
                why = ("is a URL (fetched from the network)" if is_url(value) or "://" in value
                       else _outside(base, value))
                if why is not None:
                    where = field if field.startswith("teachability.") else f"retrieve_config.{field}"
                    found.append(OutsideWorkDir(f"agents.{name}.{where}", value, why, field.removeprefix("teachability.")))
    return found


def check_work_dirs(spec: TeamSpec, allow_work_dirs: Iterable[str], *, retrieval_only: bool = False) -> None:
    """``retrieval_only``: the check's build (its code is recorded, not run) still reads documents."""
    allowed = set(allow_work_dirs)
    refused = [o for o in outside_work_dirs(spec)
               if o.value not in allowed and not (retrieval_only and o.field == "work_dir")]
    if refused:
        raise SpecError([SpecIssue(o.path, f"{o.field} {o.value!a} {o.why}: a spec's {o.field} is a relative "
                                           f"{'folder' if o.field == 'work_dir' else 'path'} under the run's folder; to "
                                           f"use this one anyway pass --allow-work-dir {o.value!a} (allow_work_dirs=[...])")
                         for o in refused])


__all__ = ["KEY_NAME", "EnvRead", "OutsideWorkDir", "check_env", "check_work_dirs", "env_allowed", "env_reads",
           "key_for_entry", "official", "outside_work_dirs", "work_dir_problem"]
