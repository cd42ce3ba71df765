"""Classic ``autogen.oai.client_utils``: helpers for writing model clients."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_HIDE_TOOLS = ("if_all_run", "if_any_run", "never")


def validate_parameter(
    params: dict[str, Any],
    param_name: str,
    allowed_types: type | tuple[type, ...],
    allow_None: bool,
    default_value: Any,
    numerical_bound: tuple[float | None, float | None] | None,
    allowed_values: list[Any] | None,
) -> Any:
    """``params[param_name]`` when it is valid, else ``default_value`` (with a warning naming why).

    Valid means: of ``allowed_types`` (or None when ``allow_None``), within ``numerical_bound``
    ``(low, high)`` (None = unbounded), and one of ``allowed_values`` when given.
    """
    if allowed_values is not None and not isinstance(allowed_values, list):
        raise TypeError(f"allowed_values should be a list or None, got {type(allowed_values).__name__}")
    value = params.get(param_name, default_value)
    problem = None
    if value is None:
        if not allow_None:
            problem = "must not be None"
    elif not isinstance(value, allowed_types) or (isinstance(value, bool) and bool not in _as_tuple(allowed_types)):
        problem = f"must be of type {allowed_types}, got {type(value).__name__}"
    elif numerical_bound is not None:
        low, high = numerical_bound
        number: Any = value  # of allowed_types, which a caller giving a bound makes numeric
        if (low is not None and number < low) or (high is not None and number > high):
            problem = f"must be between {low} and {high}, got {value}"
    if problem is None and value is not None and allowed_values is not None and value not in allowed_values:
        problem = f"must be one of {allowed_values}, got {value!r}"
    if problem is not None:
        logger.warning("Config error - %s %s; using the default value %r.", param_name, problem, default_value)
        return default_value
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def should_hide_tools(messages: list[dict[str, Any]], tools: list[dict[str, Any]], hide_tools_param: str) -> bool:
    """Whether to stop offering ``tools``: ``"if_all_run"`` once every tool has run (a message in
    ``messages`` answers a call of it), ``"if_any_run"`` once any has, ``"never"`` never (lets a model stop looping on tools)."""
    if hide_tools_param not in _HIDE_TOOLS:
        raise TypeError(f"hide_tools must be one of {', '.join(_HIDE_TOOLS)}, got {hide_tools_param!r}")
    if hide_tools_param == "never" or not tools:
        return False
    # A tool has run when a message answers one of its calls (by tool_call_id).
    name_of_call = {call.get("id"): call["function"]["name"] for message in messages
                    for call in (message.get("tool_calls") or []) if isinstance(call, dict) and "function" in call}
    answered = {message.get("tool_call_id") for message in messages}
    answered |= {r.get("tool_call_id") for message in messages for r in (message.get("tool_responses") or [])}
    called = {name for call_id, name in name_of_call.items() if call_id in answered}
    names = [tool["function"]["name"] for tool in tools]
    if hide_tools_param == "if_any_run":
        return any(name in called for name in names)
    return all(name in called for name in names)


__all__ = ["should_hide_tools", "validate_parameter"]
