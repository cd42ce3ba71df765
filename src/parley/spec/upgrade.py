"""Older spec versions, upgraded to the current one when loaded.

Version 0 (the first drafts) started the run under ``start:`` and named an agent's model with
``model:``; version 1 uses the classic names (``run:``, ``llm_config:``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .document import SPEC_VERSION
from .errors import SpecError


def _from_0(document: dict) -> dict:
    document = copy.deepcopy(document)
    if "start" in document and "run" not in document:
        document["run"] = document.pop("start")
    for agent in (document.get("agents") or {}).values():
        if isinstance(agent, dict) and "model" in agent and "llm_config" not in agent:
            agent["llm_config"] = agent.pop("model")
    document["version"] = 1
    return document


_UPGRADES: dict[int, Callable[[dict], dict]] = {0: _from_0}


def upgrade(document: Any) -> dict:
    """The document at the current version (a copy when it was older)."""
    if not isinstance(document, dict):
        raise SpecError(f"a spec must be a mapping (version, agents, run, ...), got {type(document).__name__}")
    version = document.get("version")
    if version is None:
        raise SpecError(f"required (the current version is {SPEC_VERSION})", "version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise SpecError(f"must be a version number (the current one is {SPEC_VERSION}), got {version!r}", "version")
    if version > SPEC_VERSION:
        raise SpecError(f"version {version} is newer than this parley reads ({SPEC_VERSION}): upgrade parley", "version")
    while version < SPEC_VERSION:
        document = _UPGRADES[version](document)
        version = document["version"]
    return document


__all__ = ["upgrade"]
