"""Placed agents: an agent whose spec has ``placement`` is made in a Ray actor on a node offering
its resources (``parley.distributed.remote``), and the built team holds its ``RemoteAgent``. The
actor gets the spec's document and the build's grants, and builds that agent alone
(``build.build_placed``): its model, its sides of the tools, its code executor live there.
Building a team with placed agents is what starts their actors; loading or checking a spec
starts nothing."""

from __future__ import annotations

from typing import Any

from .document import TeamSpec, dump


def place(spec: TeamSpec, name: str, options: dict) -> Any:
    """Agent ``name`` of ``spec`` in a Ray actor placed as its spec says; ``options``: the build's
    grants and model choice, which the actor's build applies too."""
    from ..distributed import RemoteAgentError, remote
    from .errors import SpecError

    placement = spec.agents[name].placement
    assert placement is not None
    actor_options = {"num_gpus": placement.num_gpus} if placement.num_gpus else None
    try:
        return remote(build_in_actor, args=(dump(spec), name, options), resources=dict(placement.resources),
                      max_restarts=3 if placement.max_restarts is None else placement.max_restarts,
                      actor_options=actor_options)
    except (ImportError, RemoteAgentError) as error:
        raise SpecError(str(error), f"agents.{name}.placement") from None


def build_in_actor(document: dict, name: str, options: dict) -> Any:
    """Runs in the actor: the document validated again and agent ``name`` built from it."""
    from .build import build_placed
    from .loading import validate_document

    return build_placed(validate_document(document), name, **options)
