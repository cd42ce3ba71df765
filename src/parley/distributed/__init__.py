"""Many chats at once: ``run_many`` fans a team out over a list of tasks, in this process on
asyncio (``address=None``) or on a Ray cluster (``address="local"``, ``"auto"``, ``"ray://…"``;
``pip install 'parley[ray]'``). Every chat is a run of the run store, so a chat whose worker
died is retried by resuming its stored run. ``remote`` puts one agent of a chat in a Ray actor
placed by resources, the chat's loop staying here. See docs/distributed.md.

Nothing here imports Ray until a Ray address is given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fan_out import a_run_many, run_many
    from .outcome import ChatOutcome
    from .remote_agents import RemoteAgent, RemoteAgentError, remote

_EXPORTS = {"run_many": "fan_out", "a_run_many": "fan_out", "ChatOutcome": "outcome", "remote": "remote_agents",
            "RemoteAgent": "remote_agents", "RemoteAgentError": "remote_agents"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["run_many", "a_run_many", "ChatOutcome", "remote", "RemoteAgent", "RemoteAgentError"]
