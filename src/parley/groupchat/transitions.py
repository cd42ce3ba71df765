"""Speaker-transition graphs: who may speak after whom.

A group chat is given either nothing (everyone may follow everyone, with or without self loops
per ``allow_repeat_speaker``) or a dict ``{agent: [agents]}`` of allowed or disallowed next
speakers. Both become one *allowed* dict, checked once when the chat is built, so that a bad
graph fails at construction with the offending agent or edge named, not rounds later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..agents.agent import Agent

logger = logging.getLogger(__name__)

TRANSITION_TYPES = ("allowed", "disallowed")


def _label(agent: object) -> str:
    return repr(getattr(agent, "name", agent))


def full_graph(agents: Sequence[Agent], allow_repeat_speaker: bool | list) -> dict:
    """Everyone may follow everyone; self loops as ``allow_repeat_speaker`` says."""
    repeaters = set(allow_repeat_speaker) if isinstance(allow_repeat_speaker, list) else None
    graph = {}
    for agent in agents:
        repeat = allow_repeat_speaker is True or (repeaters is not None and agent in repeaters)
        graph[agent] = [other for other in agents if other is not agent or repeat]
    return graph


def _check_edges(transitions: object, agents: Sequence[Agent], kind: str) -> None:
    where = "allowed_or_disallowed_speaker_transitions"
    if not isinstance(transitions, dict):
        raise TypeError(f"{where} must be a dict {{agent: [agents]}}, not {type(transitions).__name__}")
    members = set(agents)
    for source, targets in transitions.items():
        if source not in members:
            raise ValueError(f"{where}: {_label(source)} is not an agent of this group chat ({kind} transitions from it)")
        if not isinstance(targets, (list, tuple)):
            raise TypeError(f"{where}[{_label(source)}] must be a list of agents, not {type(targets).__name__}")
        for target in targets:
            if target not in members:
                raise ValueError(
                    f"{where}: the edge {_label(source)} -> {_label(target)} names {_label(target)}, "
                    "which is not an agent of this group chat"
                )


def allowed_graph(transitions: dict, transitions_type: str, agents: Sequence[Agent]) -> dict:
    """The allowed dict for a user's graph, validated.

    Raises when an edge names an agent outside the chat, or when the graph has no edge at all;
    warns about an agent that can be chosen to speak but may hand over to no one (the chat ends there).
    """
    _check_edges(transitions, agents, transitions_type)
    if transitions_type == "allowed":
        graph = {agent: [t for t in agents if t in transitions[agent]] for agent in agents if agent in transitions}
    else:
        graph = {agent: [t for t in agents if t not in transitions.get(agent, ())] for agent in agents}
    if not any(graph.values()):
        raise ValueError(
            f"allowed_or_disallowed_speaker_transitions ({transitions_type}) leaves no transition at all: "
            "no agent could ever speak after another"
        )
    reachable = {target for targets in graph.values() for target in targets}
    for agent in agents:
        if agent in reachable and not graph.get(agent):
            # Classic accepts a dead end and ends the chat when it is reached; say so now.
            sources = [_label(s) for s, targets in graph.items() if agent in targets]
            logger.warning(
                "allowed_or_disallowed_speaker_transitions (%s): %s can be chosen to speak (after %s) but has no allowed "
                "next speaker, so the chat ends after it speaks; add an edge from %s to go on",
                transitions_type, _label(agent), ", ".join(sources), _label(agent),
            )
    return graph
