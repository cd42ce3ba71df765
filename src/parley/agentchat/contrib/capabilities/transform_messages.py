"""``TransformMessages``: change what an agent's model sees (not its stored history) before each reply.

    context_handling = TransformMessages(transforms=[MessageHistoryLimiter(max_messages=10),
                                                     MessageTokenLimiter(max_tokens=3000)])
    context_handling.add_to_agent(assistant)

The transforms run in order on a copy of the messages; a leading system message is kept aside
and put back first. With ``verbose``, each transform's effect is printed.
"""

from __future__ import annotations

import copy
from typing import Any

from ....io import get_default
from .agent_capability import AgentCapability
from .transforms import MessageTransform


class TransformMessages(AgentCapability):
    def __init__(self, *, transforms: list[MessageTransform] | None = None, verbose: bool = True) -> None:
        transforms = list(transforms or [])
        for i, transform in enumerate(transforms):
            if not callable(getattr(transform, "apply_transform", None)):
                raise TypeError(f"TransformMessages transforms[{i}] must have apply_transform(messages), got {transform!r}")
        self._transforms = transforms
        self._verbose = verbose

    def add_to_agent(self, agent: Any) -> None:
        """Transform the messages each time ``agent`` is about to reply."""
        agent.register_hook(hookable_method="process_all_messages_before_reply", hook=self._transform_messages)

    def _transform_messages(self, messages: list[dict]) -> list[dict]:
        messages = copy.deepcopy(messages)
        system = messages.pop(0) if messages and messages[0].get("role") == "system" else None
        for transform in self._transforms:
            before = copy.deepcopy(messages) if self._verbose and hasattr(transform, "get_logs") else None
            messages = transform.apply_transform(messages)
            if before is not None:
                text, had_effect = transform.get_logs(before, messages)
                if had_effect:
                    get_default().print(text)
        if system is not None:
            messages.insert(0, system)
        return messages

    def apply_transforms(self, messages: list[dict]) -> list[dict]:
        """The messages as the transforms leave them (a copy); a group chat's "auto" selection applies them so."""
        return self._transform_messages(messages)  # a subclass's override of the classic name is honoured


__all__ = ["TransformMessages"]
