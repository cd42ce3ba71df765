"""``run_many``: one team, many tasks, one recorded run per task, results in task order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

from .outcome import ChatOutcome
from .progress import FanOutProgress
from .team_source import TeamSource

Grants = tuple[str, ...] | list[str]


def run_many(team: Any, tasks: Iterable[Any], *, address: str | None = None, store: Any = None,
             max_concurrency: int = 64, workers: int = 2, max_attempts: int = 3, progress: bool | None = None,
             allow_modules: Grants = (), allow_env: Grants = (), allow_work_dirs: Grants = (),
             model: str | None = None, worker_resources: dict[str, float] | None = None) -> list[ChatOutcome]:
    """Run ``team`` once per task and return a ChatOutcome per task, in task order.

    ``team``: a ``parley.spec.Team``, a spec file path or dict, or ``"module:function"`` returning
    ``(initiator, recipient, chat_kwargs)``. ``tasks``: messages (``{task}`` in the spec's
    message) or dicts of template variables. ``address``: None runs the chats in this process on
    asyncio; a Ray address (``"local"``: a Ray of this machine, ``"auto"``, ``"ray://host:10001"``)
    runs them in ``workers`` Ray actors (many chats each). ``store``: the run store's URL (or a
    RunStore for in-process runs); every chat is one run of it. ``max_concurrency``: chats at
    once, in all. ``max_attempts``: how many workers may run a chat whose worker died (each
    later one resumes its stored run). ``progress``: the bar on stderr (default: on a terminal).
    Grants and ``model`` as for ``Team.build``. ``worker_resources``: Ray custom resources each
    worker actor needs (e.g. ``{"batch_nodes": 0.01}``: the workers go to the nodes offering it)."""
    return asyncio.run(a_run_many(team, tasks, address=address, store=store, max_concurrency=max_concurrency,
                                  workers=workers, max_attempts=max_attempts, progress=progress,
                                  allow_modules=allow_modules, allow_env=allow_env, allow_work_dirs=allow_work_dirs,
                                  model=model, worker_resources=worker_resources))


async def a_run_many(team: Any, tasks: Iterable[Any], *, address: str | None = None, store: Any = None,
                     max_concurrency: int = 64, workers: int = 2, max_attempts: int = 3, progress: bool | None = None,
                     allow_modules: Grants = (), allow_env: Grants = (), allow_work_dirs: Grants = (),
                     model: str | None = None, worker_resources: dict[str, float] | None = None) -> list[ChatOutcome]:
    """Async face of ``run_many``."""
    for name, value in (("max_concurrency", max_concurrency), ("workers", workers), ("max_attempts", max_attempts)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    source = TeamSource.of(team, allow_modules=tuple(allow_modules), allow_env=tuple(allow_env),
                           allow_work_dirs=tuple(allow_work_dirs), model=model)
    if worker_resources is not None and address is None:
        raise ValueError("worker_resources places Ray workers: give a Ray address too")
    task_list = list(tasks)
    # The run ids are chosen here, so that a retry on another worker finds the same run.
    run_ids = [str(uuid.uuid4()) for _ in task_list]
    with FanOutProgress(len(task_list), progress) as bar:
        if address is None:
            return await _in_process(source, task_list, run_ids, store, max_concurrency, bar)
        from .ray_workers import run_on_ray

        return await run_on_ray(source, task_list, run_ids, address=address, store=store, workers=workers,
                                max_concurrency=max_concurrency, max_attempts=max_attempts, bar=bar,
                                actor_options={"resources": dict(worker_resources)} if worker_resources else None)


async def _in_process(source: TeamSource, tasks: list, run_ids: list[str], store: Any, max_concurrency: int,
                      bar: FanOutProgress) -> list[ChatOutcome]:
    from ..store import RunStore
    from .chat_job import run_chat

    run_store = store if isinstance(store, RunStore) else RunStore(store)
    attached_here = not run_store.attached
    if attached_here:
        run_store.attach()
    limit = asyncio.Semaphore(max_concurrency)

    async def one(index: int) -> ChatOutcome:
        async with limit:
            outcome = await run_chat(source, run_store, index, run_ids[index], tasks[index])
        bar.done(outcome.status)
        return outcome

    try:
        return list(await asyncio.gather(*(one(i) for i in range(len(tasks)))))
    finally:
        if attached_here:
            run_store.detach()
        if run_store is not store:
            run_store.close()
