"""A tool: a function the model may call, its schema, and the safe way to run it.

``Tool.call`` never raises for anything the model did wrong or the function did wrong: bad JSON,
arguments that fail validation, an exception, a timeout all come back as an ``"Error: ..."``
string, because the model reads that string and can correct itself, while an exception would end
the chat. Async functions are awaited; sync ones run in a thread of their own so that several tool
calls in one message overlap and the event loop keeps serving other agents.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .schema import ParameterModel, callable_name, function_schema, parameter_model

# What OpenAI accepts as a function name (Anthropic's rule is the same): checked at registration
# rather than discovered as a 400 from the provider in the middle of a chat.
logger = logging.getLogger(__name__)
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME_WITH_SPACES = re.compile(r"[A-Za-z0-9_ -]{1,64}")  # classic accepts spaces; OpenAI's API refuses them

# How much of an offending argument value is quoted back to the model.
_SHOWN_INPUT_CHARS = 120


class ToolError(Exception):
    """Raise it from a tool to tell the model ``"Error: <message>"`` (no exception type shown)."""


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """The text the model will read and whether the call succeeded."""

    content: str
    ok: bool


def serialize_result(result: Any) -> str:
    """A tool's return value as the text of its tool message.

    A str is sent as is, a pydantic model as its JSON, anything else as JSON (datetimes, dataclasses
    and nested models included; what JSON cannot hold is shown with ``str``).
    """
    if isinstance(result, str):
        return result
    from pydantic import BaseModel

    if isinstance(result, BaseModel):
        return result.model_dump_json()
    from pydantic_core import to_jsonable_python

    return json.dumps(to_jsonable_python(result, fallback=str), ensure_ascii=False)


def _is_async(func: Callable) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an object with an async __call__ (its method, not a callability test)
    return call is not None and inspect.iscoroutinefunction(call)


class _BadArguments(Exception):
    """The model's arguments cannot be used; the message is what the model is told."""


class Tool:
    """A function the model may call.

    ``Tool(func, name=None, description=None)`` reads the function's type hints; ``description``
    defaults to the docstring, and a function with neither is refused (the model would not know
    what it does). Errors at construction name the function and the parameter.

    ``Tool.from_schema(name, description, parameters, func)`` wraps a function whose parameters
    are given as a JSON schema instead (an MCP server's tool).
    """

    __slots__ = ("func", "name", "description", "schema", "timeout", "_parameters", "_is_async")

    func: Callable[..., Any]
    """The function, called with keyword arguments."""
    name: str
    description: str | None
    schema: dict
    """``{"type": "function", "function": {"name", "description", "parameters"}}``."""
    timeout: float | None
    """Seconds the tool may run before the model is told it timed out (None: no limit of its own)."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        require_description: bool = True,
    ) -> None:
        if isinstance(func, Tool):
            raise TypeError(f"'{func.name}' is already a Tool")
        if not callable(func):
            raise TypeError(f"a tool must be callable, not {type(func).__name__}")
        name = name or callable_name(func)
        _check_name(name, func)
        if description is None:
            description = inspect.getdoc(func) if inspect.isfunction(func) or inspect.ismethod(func) else None
        if require_description and not description:
            raise ValueError(
                f"function '{name}' has no description: pass description=\"...\" (or give it a docstring) "
                "so the model knows when to call it"
            )
        self._setup(func, name, description, parameter_model(func, name), timeout)

    def _setup(
        self,
        func: Callable[..., Any],
        name: str,
        description: str | None,
        parameters: ParameterModel | None,
        timeout: float | None,
        json_schema: dict | None = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"tool '{name}': timeout must be positive, got {timeout!r}")
        self.func = func
        self.name = name
        self.description = description
        self.timeout = timeout
        self._parameters = parameters
        self._is_async = _is_async(func)
        if json_schema is None:
            json_schema = parameters.json_schema if parameters is not None else {"type": "object", "properties": {}}
        self.schema = function_schema(name, description, json_schema)

    @classmethod
    def from_schema(
        cls,
        name: str,
        description: str | None,
        parameters: dict,
        func: Callable[..., Awaitable[Any] | Any],
        *,
        timeout: float | None = None,
    ) -> Tool:
        """A tool whose parameters are a JSON schema; ``func(**arguments)`` is called unvalidated.

        The function (sync or async) is trusted to check its arguments itself, as an MCP server does.
        """
        _check_name(name, func)
        if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
            raise ValueError(f"tool '{name}': the parameters schema must be a JSON object schema, got {parameters!r}")
        tool = cls.__new__(cls)
        tool._setup(func, name, description, None, timeout, json_schema=parameters)
        return tool

    @classmethod
    def for_execution(cls, func: Callable[..., Any], name: str | None = None) -> Tool:
        """A tool that is only executed, never described to the model (a ``function_map`` entry).

        Needs no description. A function whose hints cannot be turned into a schema (no
        annotations, ``**kwargs``, as classic ``function_map`` functions often are) is called with
        the model's arguments as they are, like classic AutoGen did.
        """
        name = name or callable_name(func)
        try:
            return cls(func, name=name, require_description=False)
        except TypeError:
            tool = cls.__new__(cls)
            tool._setup(func, name, None, None, None)
            return tool

    @property
    def parameters(self) -> dict:
        """The JSON schema of the arguments."""
        return self.schema["function"]["parameters"]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Calls the function itself, so a Tool can stand wherever the function did."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"

    async def call(self, arguments: str | Mapping[str, Any] | None) -> str:
        """Run with the model's arguments (a JSON string or a dict); the text for the tool message."""
        return (await self.invoke(arguments)).content

    async def invoke(self, arguments: str | Mapping[str, Any] | None, *, timeout: float | None = None) -> ToolOutcome:
        """Like :meth:`call`, also saying whether it succeeded.

        ``timeout`` applies when the tool has none of its own. A sync function that times out
        keeps running in its thread (Python cannot stop a thread); its result is dropped.
        """
        try:
            kwargs = self._arguments(arguments)
        except _BadArguments as error:
            return ToolOutcome(str(error), False)
        limit = self.timeout if self.timeout is not None else timeout
        try:
            if limit is None:
                result = await self._run(kwargs)
            else:
                result = await asyncio.wait_for(self._run(kwargs), limit)
            return ToolOutcome(serialize_result(result), True)
        except TimeoutError:
            return ToolOutcome(f"Error: function '{self.name}' timed out after {limit:g} s", False)
        except ToolError as error:
            return ToolOutcome(f"Error: {error}", False)
        except Exception as error:
            return ToolOutcome(f"Error: {error}", False)  # classic's exact text

    async def _run(self, kwargs: dict) -> Any:
        if self._is_async:
            return await self.func(**kwargs)
        result = await _in_daemon_thread(self.func, kwargs)
        if inspect.isawaitable(result):  # a sync function that hands back a coroutine
            result = await result
        return result

    def _arguments(self, arguments: str | Mapping[str, Any] | None) -> dict:
        if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
            parsed: Any = {}
        elif isinstance(arguments, str):
            try:
                # strict=False: raw newlines and tabs inside strings (code a model wrote) are
                # accepted, as classic accepted them (it escaped them before parsing).
                parsed = json.loads(arguments, strict=False)
            except json.JSONDecodeError as error:
                # Worded as classic AutoGen worded it; models have learnt to react to it.
                raise _BadArguments(f"Error: {error}\n The argument must be in JSON format.") from None
        elif isinstance(arguments, Mapping):
            parsed = dict(arguments)
        else:
            raise _BadArguments(f"Error: the arguments must be a JSON object, got {type(arguments).__name__}")
        if not isinstance(parsed, dict):
            raise _BadArguments(f"Error: the arguments must be a JSON object ({{...}}), got {type(parsed).__name__}")
        if self._parameters is None:
            return parsed
        from pydantic import ValidationError

        try:
            return self._parameters.validate(parsed)
        except ValidationError as error:
            raise _BadArguments(_validation_message(self.name, error)) from None


class _DaemonWorkers:
    """The threads sync tools run in.

    Not ``asyncio.to_thread``: the default executor is joined when the loop shuts down and
    ``ThreadPoolExecutor`` threads at interpreter exit, so a sync tool abandoned after a timeout
    would hold the whole chat, or the program's exit, until it returned. These are daemon
    threads, kept for the next job once done (starting a thread per call costs several times
    more than handing a job to an idle one); there are as many as calls ever ran at once.
    """

    def __init__(self) -> None:
        self._reset()
        # A forked child has none of the parent's threads: without a reset, its first sync tool
        # would be queued for an "idle" worker that does not exist there, and never run.
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            start_one = self._idle == 0
            if not start_one:
                self._idle -= 1  # that worker will take this job
        self._jobs.put(job)
        if start_one:
            threading.Thread(target=self._work, name="parley-tool", daemon=True).start()

    def _work(self) -> None:
        while True:
            self._jobs.get()()
            with self._lock:
                self._idle += 1


_workers = _DaemonWorkers()


def _in_daemon_thread(func: Callable[..., Any], kwargs: dict) -> asyncio.Future:
    """Run a sync tool on a worker thread; a future for its result on the running loop."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    context = contextvars.copy_context()

    def settle(set_outcome: Callable[[Any], None], value: Any) -> None:
        if not future.done():  # done = cancelled: the caller stopped waiting (a timeout)
            set_outcome(value)

    def job() -> None:
        try:
            result = context.run(func, **kwargs)
        except BaseException as error:
            outcome: tuple = (future.set_exception, error)
        else:
            outcome = (future.set_result, result)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is closed: nobody is waiting for this result any more
            pass

    _workers.submit(job)
    return future


def _check_name(name: Any, func: Callable) -> None:
    if isinstance(name, str) and not _NAME.fullmatch(name) and _NAME_WITH_SPACES.fullmatch(name):
        logger.warning("tool name %r (function '%s') has spaces: OpenAI's API refuses such names; "
                       "other providers and the embedded model accept them", name, callable_name(func))
        return
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"tool name {name!r} (function '{callable_name(func)}') must be 1-64 letters, digits, '_' or '-'; "
            "pass name=\"...\""
        )


def _validation_message(name: str, error: Any) -> str:
    """pydantic's errors, one line each with the argument's name, without documentation links."""
    lines = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(arguments)"
        line = f"- {where}: {item['msg']}"
        if item["type"] != "missing" and "input" in item:
            shown = repr(item["input"])
            if len(shown) > _SHOWN_INPUT_CHARS:
                shown = shown[:_SHOWN_INPUT_CHARS] + "..."
            line += f" (got {shown})"
        lines.append(line)
    return f"Error: invalid arguments for function '{name}':\n" + "\n".join(lines)
