"""Classic ``autogen.graph_utils``: checks and conversions for speaker-transition graphs.

A graph is ``{agent: [agents that may speak next]}``. ``GroupChat`` validates its own graph when
it is built (``parley.groupchat.transitions``); these helpers are the classic public functions for
scripts that build graphs themselves. Problems that make a graph unusable raise ``ValueError``;
those that are merely suspicious are logged as warnings.
"""

from __future__ import annotations

import logging
from typing import Any

from .agents.agent import Agent

logger = logging.getLogger(__name__)


def has_self_loops(allowed_speaker_transitions: dict) -> bool:
    """Whether some agent may speak twice in a row."""
    return any(source in targets for source, targets in allowed_speaker_transitions.items())


def check_graph_validity(allowed_speaker_transitions_dict: dict, agents: list[Agent]) -> None:
    """Raise ``ValueError`` for a malformed graph; warn about isolated agents, agents missing from
    or unknown to the graph, and duplicated edges."""
    # ValueError, not TypeError, for a wrong type too: classic raises ValueError here.
    for source, targets in allowed_speaker_transitions_dict.items():
        if not isinstance(source, Agent):
            raise ValueError(f"allowed_speaker_transitions_dict keys must be agents, got {source!r}")
        if not isinstance(targets, list):
            raise ValueError(f"allowed_speaker_transitions_dict[{source.name!r}] must be a list of agents, got {targets!r}")
        for target in targets:
            if not isinstance(target, Agent):
                raise ValueError(f"allowed_speaker_transitions_dict[{source.name!r}] lists {target!r}, which is not an agent")
    has_edges = any(allowed_speaker_transitions_dict.values())
    if not has_edges and len(agents) > 1:
        raise ValueError("allowed_speaker_transitions_dict has no edges: no agent could ever speak after another")

    with_outgoing = {source for source, targets in allowed_speaker_transitions_dict.items() if targets}
    with_incoming = {target for targets in allowed_speaker_transitions_dict.values() for target in targets}
    isolated = [agent.name for agent in agents if agent not in with_outgoing and agent not in with_incoming]
    if isolated:
        logger.warning("Warning: These agents are isolated (no transitions from or to them): %s", ", ".join(isolated))

    in_graph = set(allowed_speaker_transitions_dict) | with_incoming
    if in_graph != set(agents):
        unknown = sorted(a.name for a in in_graph - set(agents))
        missing = sorted(a.name for a in set(agents) - in_graph)
        logger.warning(
            "Warning: The set of agents in allowed_speaker_transitions do not match agents. "
            "Offending agents: unknown to the chat %s, absent from the graph %s", unknown, missing,
        )

    for source, targets in allowed_speaker_transitions_dict.items():
        names = [target.name for target in targets]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            logger.warning("Warning: There are duplicate agents in the transitions from %s: %s", source.name, duplicates)


def invert_disallowed_to_allowed(disallowed_speaker_transitions_dict: dict, agents: list[Agent]) -> dict:
    """The allowed graph over ``agents`` that permits every transition the disallowed one does not
    forbid (agents outside ``agents`` are ignored)."""
    return {
        agent: [other for other in agents if other not in disallowed_speaker_transitions_dict.get(agent, ())]
        for agent in agents
    }


def visualize_speaker_transitions_dict(
    speaker_transitions_dict: dict, agents: list[Agent], export_path: str | None = None
) -> Any:
    """Draw the graph with networkx and matplotlib (both needed); save it to ``export_path`` if given."""
    try:
        import matplotlib.pyplot as plt
        import networkx as nx
    except ImportError as error:
        raise ImportError(f"visualize_speaker_transitions_dict needs networkx and matplotlib: {error}") from None
    graph = nx.DiGraph()
    graph.add_nodes_from(agent.name for agent in agents)
    for source, targets in speaker_transitions_dict.items():
        graph.add_edges_from((source.name, target.name) for target in targets)
    nx.draw(graph, with_labels=True, font_weight="bold")
    if export_path is not None:
        plt.savefig(export_path)
    return graph


__all__ = ["check_graph_validity", "has_self_loops", "invert_disallowed_to_allowed", "visualize_speaker_transitions_dict"]
