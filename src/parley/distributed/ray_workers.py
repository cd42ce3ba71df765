"""The fan-out on Ray: a few actors (``num_cpus=0``: they wait on model endpoints, so a small
machine hosts many), each running many chats as asyncio tasks and recording into the shared run
store. When an actor dies its unfinished chats go to another actor, which resumes their stored
runs; a new actor takes the dead one's place. Imported only when a Ray address is given."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from .outcome import ChatOutcome
from .progress import FanOutProgress
from .team_source import TeamSource


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("run_many(address=...) runs on Ray: pip install 'parley[ray]'") from None
    return ray


class ChatWorker:
    """One Ray actor: builds and runs chats as asyncio tasks, recording into the store."""

    def __init__(self, source: TeamSource, store_url: str) -> None:
        from ..store import RunStore

        self.source = source
        self.store = RunStore(store_url, create=False).attach()

    def pid(self) -> int:
        return os.getpid()

    def cpu_seconds(self) -> float:
        return time.process_time()

    async def run(self, index: int, run_id: str, task: Any, attempt: int) -> ChatOutcome:
        from .chat_job import run_chat

        return await run_chat(self.source, self.store, index, run_id, task, attempt)

    def close(self) -> None:
        self.store.close()


_actor_classes: dict[int, Any] = {}


def worker_class() -> Any:
    """The Ray actor class of ChatWorker (made on first use: decorating imports Ray)."""
    ray = _ray()
    if id(ray) not in _actor_classes:
        _actor_classes[id(ray)] = ray.remote(num_cpus=0)(ChatWorker)
    return _actor_classes[id(ray)]


class WorkerPool:
    """The actors of one fan-out; a dead one is replaced on the next submit."""

    def __init__(self, source: TeamSource, store_url: str, workers: int, per_worker: int, options: dict) -> None:
        self.source, self.store_url, self.per_worker, self.options = source, store_url, per_worker, options
        self.actors: list[Any] = [self._new() for _ in range(workers)]
        self.load = [0] * workers
        self.replaced = 0
        # Each actor's process, asked before chats fill its slots (a call made later waits behind
        # them): for tools and tests that watch or stop a worker.
        self.started_pids: list[int | None] = [None] * workers

    def _new(self) -> Any:
        return worker_class().options(max_concurrency=self.per_worker, **self.options).remote(self.source, self.store_url)

    def pick(self) -> int:
        return min(range(len(self.actors)), key=self.load.__getitem__)

    def died(self, slot: int, actor: Any) -> None:
        if self.actors[slot] is actor:  # the first of its failed calls to come back replaces it
            _ray().kill(actor, no_restart=True)
            self.actors[slot] = self._new()
            self.started_pids[slot] = None
            self.replaced += 1

    async def pids(self) -> list[int]:
        return list(await asyncio.gather(*(actor.pid.remote() for actor in self.actors)))

    def close(self) -> None:
        ray = _ray()
        try:  # for benchmarks: what the live workers spent (a dead one's CPU is not known)
            pids = ray.get([actor.pid.remote() for actor in self.actors], timeout=30)
            seconds = ray.get([actor.cpu_seconds.remote() for actor in self.actors], timeout=30)
            last_stats["workers_cpu_s"] = dict(zip(pids, seconds, strict=True))
        except Exception:  # a worker that died at the end; the stats are only informative
            last_stats.clear()
        last_stats["replaced"] = self.replaced
        for actor in self.actors:
            ray.kill(actor, no_restart=True)


# The last fan-out's workers: CPU seconds, pids, how many were replaced (for bench/).
last_stats: dict[str, Any] = {}
# The pool of the fan-out in progress (for tests and tools that want its workers' pids).
current_pool: WorkerPool | None = None


async def run_on_ray(source: TeamSource, tasks: list, run_ids: list[str], *, address: str, store: Any, workers: int,
                     max_concurrency: int, max_attempts: int, bar: FanOutProgress,
                     actor_options: dict | None = None) -> list[ChatOutcome]:
    global current_pool
    ray = _ray()
    from ray.exceptions import RayActorError

    from ..store import RunStore

    if store is None or isinstance(store, RunStore):
        url = RunStore(store).url if store is None else store.url
    else:
        url = RunStore(store).url  # creates the schema once, here, before the workers open it
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    per_worker = max(1, -(-max_concurrency // workers))
    pool = WorkerPool(source, url, workers, per_worker, actor_options or {})
    pool.started_pids = list(await pool.pids())
    current_pool = pool
    outcomes: list[ChatOutcome | None] = [None] * len(tasks)
    attempts = [0] * len(tasks)
    pending = list(range(len(tasks)))[::-1]
    running: dict[asyncio.Future, tuple[int, int, Any]] = {}

    def submit() -> None:
        while pending and len(running) < max_concurrency:
            index = pending.pop()
            attempts[index] += 1
            slot = pool.pick()
            actor = pool.actors[slot]
            ref = actor.run.remote(index, run_ids[index], tasks[index], attempts[index])
            pool.load[slot] += 1
            running[asyncio.ensure_future(_await(ref))] = (index, slot, actor)

    try:
        submit()
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                index, slot, actor = running.pop(future)
                if pool.actors[slot] is actor:
                    pool.load[slot] -= 1
                error = future.exception()
                if error is None:
                    outcomes[index] = future.result()
                    bar.done(outcomes[index].status)  # type: ignore[union-attr]
                elif isinstance(error, RayActorError):
                    pool.died(slot, actor)
                    pool.load[slot] = sum(1 for _, s, a in running.values() if s == slot and a is pool.actors[slot])
                    if attempts[index] < max_attempts:
                        pending.append(index)  # resumed from the store by the next worker
                        bar.retry()
                    else:
                        outcomes[index] = ChatOutcome(index, run_ids[index], "lost", attempts=attempts[index],
                                                      error=f"its worker died {attempts[index]} times: {type(error).__name__}")
                        bar.done("lost")
                else:
                    outcomes[index] = ChatOutcome(index, run_ids[index], "failed", attempts=attempts[index],
                                                  error=f"{type(error).__name__}: {error}"[:2000])
                    bar.done("failed")
            submit()
    finally:
        pool.close()
        current_pool = None
    return [outcome for outcome in outcomes if outcome is not None]


async def _await(ref: Any) -> Any:
    return await ref
