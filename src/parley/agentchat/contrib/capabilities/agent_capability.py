"""Classic ``AgentCapability``: something that adds behaviour to an existing agent."""

from __future__ import annotations

from typing import Any


class AgentCapability:
    """Base for capabilities: ``add_to_agent(agent)`` registers hooks or reply functions on it."""

    def add_to_agent(self, agent: Any) -> None:
        raise NotImplementedError


__all__ = ["AgentCapability"]
