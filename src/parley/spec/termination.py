"""Termination predicates a spec can write: a message ends with, contains or equals a word, or
an import path. A built predicate remembers its spec, so a team built from a spec dumps back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .document import TerminationSpec


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else message
    return content if isinstance(content, str) else ""


class TerminationPredicate:
    """``is_termination_msg`` from a TerminationSpec (words) or the function it names."""

    def __init__(self, spec: TerminationSpec, function: Callable | None = None) -> None:
        self.spec = spec
        self.function = function

    def __call__(self, message: Any) -> bool:
        spec = self.spec
        if self.function is not None:
            return bool(self.function(message))
        text = _text(message).strip()
        if spec.ends_with is not None:
            return text.endswith(spec.ends_with)
        if spec.contains is not None:
            return spec.contains in text
        return text == spec.equals

    def __repr__(self) -> str:
        return f"TerminationPredicate({self.spec.model_dump(exclude_none=True)})"


def build_predicate(spec: TerminationSpec, allowed: tuple[str, ...], where: str) -> TerminationPredicate:
    from .imports import resolve

    function = resolve(spec.function, allowed, f"{where}.function") if spec.function else None
    return TerminationPredicate(spec, function)


__all__ = ["TerminationPredicate", "build_predicate"]
