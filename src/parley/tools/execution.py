"""Executing the tool calls of a model message: the executor agent's side of tool use.

Every call of one message runs concurrently and each is answered, in the order of the calls,
with a tool message, whatever happened: an unknown tool, bad arguments, an exception or a timeout
become the message's content so the model can react. One ``ToolCalled`` event per call.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from .. import events, side_effects
from .tool import Tool, ToolOutcome

Functions = Mapping[str, "Callable[..., Any] | Tool"]

# Plain callables from a function_map, wrapped once: building a Tool builds a pydantic model.
_wrapped: weakref.WeakKeyDictionary[Callable, dict[str, Tool]] = weakref.WeakKeyDictionary()


def as_tool(func: Callable[..., Any] | Tool, name: str) -> Tool:
    """The Tool for a ``functions`` entry; plain callables are wrapped for execution and cached."""
    if isinstance(func, Tool):
        return func
    try:
        by_name = _wrapped.setdefault(func, {})
    except TypeError:  # not weak-referenceable (a builtin): wrap each time
        return Tool.for_execution(func, name)
    tool = by_name.get(name)
    if tool is None:
        tool = by_name[name] = Tool.for_execution(func, name)
    return tool


async def _execute(name: Any, arguments: Any, functions: Functions, timeout: float | None) -> ToolOutcome:
    func = functions.get(name) if isinstance(name, str) else None
    if func is None:
        # Classic's exact text (scripts and tests match it); the model sees the tools it has in its schema.
        return ToolOutcome(f"Error: Function {name} not found.", False)
    return await as_tool(func, name).invoke(arguments, timeout=timeout)


async def _answer(
    name: Any, arguments: Any, functions: Functions, timeout: float | None, agent: str, call_id: str | None,
    position: int | None = None, index: int = 0,
) -> ToolOutcome:
    async def call() -> ToolOutcome:
        started = time.perf_counter()
        outcome = await _execute(name, arguments, functions, timeout)
        events.emit(
            events.ToolCalled(
                agent=agent,
                tool=name if isinstance(name, str) else repr(name),
                arguments=arguments if isinstance(arguments, str) else repr(arguments),
                result=outcome.content,
                ok=outcome.ok,
                latency_s=time.perf_counter() - started,
                tool_call_id=call_id,
            )
        )
        return outcome

    # Once across a crash and a resume: a resumed chat reuses the stored outcome at the same point.
    return await side_effects.call_tool(agent, position, index, name, arguments, call)


async def run_tool_calls(
    tool_calls: list[dict],
    functions: Functions,
    *,
    timeout: float | None = None,
    agent: str = "",
    position: int | None = None,
) -> list[dict]:
    """Run the ``tool_calls`` of an assistant message; the tool messages that answer them.

    Returns ``[{"tool_call_id", "role": "tool", "content"}, ...]`` in the order of ``tool_calls``.
    ``functions`` maps names to Tools or plain callables. ``timeout`` (seconds) bounds each
    call whose Tool has no timeout of its own. ``position``: the length of the history the agent
    answers, where the calls are at a point of a chat (see ``parley.side_effects``).
    """

    async def answer(call: dict, index: int) -> dict:
        function = call.get("function") or {}
        call_id = call.get("id")
        outcome = await _answer(
            function.get("name"), function.get("arguments"), functions, timeout, agent, call_id, position, index
        )
        return {"tool_call_id": call_id, "role": "tool", "content": outcome.content}

    if len(tool_calls) == 1:
        return [await answer(tool_calls[0], 0)]
    return list(await asyncio.gather(*(answer(call, index) for index, call in enumerate(tool_calls))))


async def run_function_call(
    function_call: dict,
    functions: Functions,
    *,
    timeout: float | None = None,
    agent: str = "",
    position: int | None = None,
) -> dict:
    """Run a legacy ``function_call``; the ``{"name", "role": "function", "content"}`` answer."""
    return (await execute_function_call(function_call, functions, timeout=timeout, agent=agent, position=position))[1]


async def execute_function_call(
    function_call: dict, functions: Functions, *, timeout: float | None = None, agent: str = "", position: int | None = None,
) -> tuple[bool, dict]:
    """Run a legacy ``function_call``: whether it succeeded, and its function message."""
    name = function_call.get("name")
    outcome = await _answer(name, function_call.get("arguments"), functions, timeout, agent, None, position)
    return outcome.ok, {"name": name, "role": "function", "content": outcome.content}
