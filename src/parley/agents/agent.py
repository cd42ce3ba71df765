"""The ``Agent`` base: anything with a name that can send and receive messages."""

from __future__ import annotations


class Agent:
    """Base class of all agents (classic ``autogen.Agent``); used as a reply trigger type."""

    name: str
    description: str


class LLMAgent(Agent):
    """An agent with a system message (classic ``autogen.LLMAgent``)."""

    system_message: str
