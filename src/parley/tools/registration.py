"""``register_function``: one call that shows a function to one agent's model and lets another agent run it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tool import Tool


def register_function(
    f: Callable[..., Any] | Tool,
    *,
    caller: Any,
    executor: Any,
    name: str | None = None,
    description: str | None = None,
) -> None:
    """Classic ``autogen.register_function``: ``caller`` proposes calls to ``f``, ``executor`` runs them.

    Works with any agents that have ``register_for_llm(name=..., description=...)`` and
    ``register_for_execution(name=...)`` decorators.
    """
    f = caller.register_for_llm(name=name, description=description)(f)
    executor.register_for_execution(name=name)(f)
