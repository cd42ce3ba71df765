"""The ``Agent`` base: anything with a name that can send and receive messages."""

from __future__ import annotations

from typing import TYPE_CHECKING


class Agent:
    """Base class of all agents (classic ``autogen.Agent``); used as a reply trigger type."""

    if TYPE_CHECKING:  # declared for type checkers only: a classic subclass may set them as plain attributes
        @property
        def name(self) -> str: ...

        @property
        def description(self) -> str: ...


class LLMAgent(Agent):
    """An agent with a system message (classic ``autogen.LLMAgent``)."""

    if TYPE_CHECKING:
        @property
        def system_message(self) -> str | list | None: ...
