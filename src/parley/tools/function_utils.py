"""The classic ``autogen.function_utils`` names, for code that imports them directly.

``get_function_schema`` is what users call; the helpers are the ones classic code reached for
(typed signatures, loading pydantic models from dict arguments, serialising a result).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

from .schema import parameter_model, type_hints
from .tool import Tool, serialize_result

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "get_function_schema",
    "get_typed_signature",
    "get_typed_return_annotation",
    "load_basemodels_if_needed",
    "serialize_to_str",
]


def get_function_schema(f: Callable[..., Any], *, name: str | None = None, description: str) -> dict:
    """The OpenAI tool schema of ``f``: ``{"type": "function", "function": {"description", "name", "parameters"}}``.

    Raises ``TypeError`` naming the function and parameter when a parameter cannot be described,
    ``ValueError`` when there is no description (neither given nor a docstring).
    """
    return Tool(f, name=name, description=description).schema


def get_typed_signature(call: Callable[..., Any]) -> inspect.Signature:
    """The signature of ``call`` with string annotations resolved."""
    signature = inspect.signature(call)
    hints = type_hints(call)
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    return signature.replace(
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )


def get_typed_return_annotation(call: Callable[..., Any]) -> Any:
    """The resolved return annotation of ``call``, or None when it has none."""
    return type_hints(call).get("return")


def load_basemodels_if_needed(func: F) -> F:
    """Decorator: the wrapped function receives pydantic models where its hints ask for them,
    even when called with plain dicts (as the model's JSON arguments are)."""
    parameters = parameter_model(func)

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(**kwargs: Any) -> Any:
            return await func(**parameters.validate(kwargs))

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        return func(**parameters.validate(kwargs))

    return wrapper  # type: ignore[return-value]


def serialize_to_str(x: Any) -> str:
    """A tool result as text: a str as is, a pydantic model as its JSON, anything else as JSON."""
    return serialize_result(x)
