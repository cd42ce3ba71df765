"""The sync facade over the async engine.

Each thread gets one persistent event loop for sync calls, so async SDK clients bound to that
loop stay valid from one ``initiate_chat`` to the next. When a loop is already running in the
calling thread (Jupyter, or a sync reply function calling ``initiate_chat`` inside a chat), the
coroutine runs on a worker thread with its own loop and the caller waits for it. Loops still
open at exit are shut down as ``asyncio.run`` would (their async generators, which close the
model SDKs' HTTP sessions, finish first), so nothing warns about unclosed loops or sessions.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import logging
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")

_local = threading.local()
_workers: ThreadPoolExecutor | None = None
_workers_lock = threading.Lock()
_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()  # weak: a finished thread's loop may go


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
        _loops.add(loop)
    return loop


def _close_loops() -> None:
    for loop in list(_loops):
        if loop.is_closed() or loop.is_running():
            continue
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        except Exception:  # exiting anyway: a failed clean-up is no reason for a traceback
            logging.getLogger("parley").debug("closing an event loop at exit failed", exc_info=True)
        finally:
            loop.close()


atexit.register(_close_loops)


def _forget_parent_state() -> None:
    # A forked child shares its parent's loops' epoll descriptors (registering a socket there would
    # wake the parent) and inherits a worker pool whose threads were not copied (a task sent to it
    # would wait forever): the child starts with none of either.
    global _local, _loops, _workers, _workers_lock
    _local = threading.local()
    _loops = weakref.WeakSet()
    _workers = None
    _workers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_parent_state)


def _run_here(coro: Coroutine[Any, Any, T]) -> T:
    return _thread_loop().run_until_complete(coro)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, whatever the calling thread's state."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_here(coro)
    global _workers
    with _workers_lock:
        if _workers is None:
            # Nested sync calls each take a worker while their caller waits: allow generous depth.
            _workers = ThreadPoolExecutor(max_workers=64, thread_name_prefix="parley-sync")
    context = contextvars.copy_context()
    return _workers.submit(context.run, _run_here, coro).result()


def sync_twin(async_method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]]) -> Callable[Concatenate[S, P], T]:
    """The classic sync method of ``async_method`` (named ``a_<name>``): ``<name>(...)`` runs
    ``self.a_<name>(...)`` to its end (``run_sync``), with the same parameters and docstring.

    The async method is looked up on the instance at each call, so a subclass that overrides
    ``a_<name>`` changes ``<name>`` too. The classic API's sync methods are made so, one line
    each (``send = sync_twin(a_send)``), instead of hand-written pairs; none is on the engine's
    per-message path, which is async."""
    async_name = async_method.__name__
    if not async_name.startswith("a_"):
        raise ValueError(f"sync_twin needs an async method named a_<name>, not {async_name!r}")

    @functools.wraps(async_method)  # name, docstring and (through __wrapped__) the signature
    def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(getattr(self, async_name)(*args, **kwargs))

    twin.__name__ = async_name[2:]
    twin.__qualname__ = async_method.__qualname__.removesuffix(async_name) + twin.__name__
    return twin
