"""Runs as asyncio tasks of the server, durable in the run store.

A run is started (or resumed) as a task of the server's event loop; everything it does is
recorded by the run store, the spec it runs with it (``parley.spec.runs``). A human-input request
is stored before it is asked (the recorder flushes it) and then waits, as long as it takes, for
``POST /api/runs/{id}/input``; the answer is stored with the Studio's row of the run before the run
gets it, so that a crash before the run recorded it loses nothing. The Studio's row says whether
the run should go on (``active``), was stopped by its user, or is done; on startup every active
run that did not finish is resumed from the store (``parley.store.resume``): after ``kill -9``
the finished transcript is the uninterrupted run's.

Several server processes may share one store (Postgres, or SQLite on one host). A run is held by
the process that runs it: a lease in its row (``holder``, ``held_until``) renewed every few
seconds. Another process answers it by storing the answer for its pending question (the holder
picks it up), stops it by marking it stopped (the holder cancels it), and takes it over, resumed
from the store, once the lease runs out or its holder's process is gone (same host).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from typing import Any

import sqlalchemy as sa

from ..io import set_default
from ..models.secrets import redact
from ..spec import Team
from ..spec.runs import save_spec, stored_spec
from ..store import RunNotFoundError, schema
from ..store.resume import process_alive
from .auth import Principal
from .event_feed import EventHub, current_run
from .policy import docs_paths, studio_team, with_run_folder
from .settings import StudioSettings

log = logging.getLogger("parley.studio")
_rows = schema.studio_runs
LEASE_S = float(os.environ.get("PARLEY_STUDIO_LEASE_S", "15"))
"""How long a run stays held by a process that stopped renewing (crashed on another host)."""
_TICK_S = min(1.0, LEASE_S / 3)  # how often answers and stops given to other processes are looked for


class RunConflict(Exception):
    """The run is not in a state that allows this (not waiting for input, already running, finished)."""


class StudioInput:
    """The IOStream of a Studio run: a question waits for an answer from the browser."""

    def __init__(self, runner: Runner, run_id: str) -> None:
        self.runner = runner
        self.run_id = run_id

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        """The transcript goes to browsers as events; printed text is not shown."""

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        raise RuntimeError("a Studio run is asked for input asynchronously (a_input); this agent asked synchronously")

    async def a_input(self, prompt: str = "", *, password: bool = False) -> str:
        return await self.runner.wait_for_answer(self.run_id, prompt)


class Runner:
    def __init__(self, store: Any, settings: StudioSettings, hub: EventHub) -> None:
        self.store = store
        self.settings = settings
        self.hub = hub
        self.tasks: dict[str, asyncio.Task] = {}
        self.questions: dict[str, tuple[asyncio.Future, str]] = {}  # run -> (its answer, the prompt)
        self._stopping = False
        self.host = socket.gethostname()
        self.identity = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tending: asyncio.Task | None = None
        self._resuming: set[str] = set()  # claimed, being rebuilt: not yet in tasks

    # ------------------------------------------------------------------ rows (sync: call in a thread)

    def row(self, run_id: str) -> dict | None:
        with self.store.engine.connect() as connection:
            found = connection.execute(sa.select(_rows).where(_rows.c.run_id == run_id)).mappings().first()
        return dict(found) if found is not None else None

    def owned(self, run_id: str, principal: Principal) -> dict | None:
        """The Studio's row of a run the caller may see, else None (another user's run is not found)."""
        if not isinstance(run_id, str) or not run_id or len(run_id) > 36:
            return None
        found = self.row(run_id)
        if found is None or found["owner"] != principal.user:
            return None
        return found

    def owned_rows(self, principal: Principal) -> list[dict]:
        with self.store.engine.connect() as connection:
            query = sa.select(_rows).where(_rows.c.owner.is_(None) if principal.user is None else _rows.c.owner == principal.user)
            return [dict(r) for r in connection.execute(query.order_by(_rows.c.created_at.desc())).mappings()]

    def _update(self, run_id: str, **values: Any) -> None:
        with self.store.engine.begin() as connection:
            connection.execute(_rows.update().where(_rows.c.run_id == run_id).values(**values))

    def _holder_gone(self, holder: str | None, held_until: float | None, now: float) -> bool:
        """Whether a run's lease is free: nobody, this process, run out, or a dead process of this host."""
        if holder is None or holder == self.identity or held_until is None or held_until < now:
            return True
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if host != self.host or not pid.isdigit():
            return False  # another host's: its lease tells
        # This process's pid with another nonce: an earlier server that had the same pid (a container's 1).
        return int(pid) == os.getpid() or not process_alive(int(pid))

    def claim(self, run_id: str) -> bool:
        """Take the run's lease when it is free (compare-and-set on the holder read)."""
        found = self.row(run_id)
        now = time.time()
        if found is None or not self._holder_gone(found["holder"], found["held_until"], now):
            return False
        same = _rows.c.holder.is_(None) if found["holder"] is None else _rows.c.holder == found["holder"]
        with self.store.engine.begin() as connection:
            result = connection.execute(_rows.update().where(_rows.c.run_id == run_id, same)
                                        .values(holder=self.identity, held_until=now + LEASE_S))
        return result.rowcount == 1

    def _release(self, run_id: str) -> None:
        with self.store.engine.begin() as connection:
            connection.execute(_rows.update().where(_rows.c.run_id == run_id, _rows.c.holder == self.identity)
                               .values(holder=None, held_until=None))

    # ------------------------------------------------------------------ starting, resuming, stopping

    def live(self, run_id: str) -> bool:
        return run_id in self.tasks

    async def start(self, team: Team, message: str | None, principal: Principal, *, team_id: str | None = None,
                    model: str | None = None) -> str:
        """Start ``team`` on ``message`` (its own task when None) as a new run; returns its id.
        SpecError when the team can't be built (an import not allowed, a model reference)."""
        run_id = str(uuid.uuid4())
        team = with_run_folder(team, run_id)
        # Document folders were checked against --allow-docs (studio_team): granted to the build.
        built = await asyncio.to_thread(team.build, allow_modules=self.settings.allow_modules, model=model,
                                        allow_work_dirs=docs_paths(team))
        now = time.time()
        with self.store.engine.begin() as connection:
            connection.execute(_rows.insert().values(run_id=run_id, owner=principal.user, team_id=team_id, team_name=team.name,
                                                     state="active", holder=self.identity, held_until=now + LEASE_S,
                                                     created_at=now))
        task = message if message is not None else team.spec.run.task
        options = {"model": model, "task": task, "allow_modules": list(self.settings.allow_modules)}

        async def run() -> None:
            with self.store.new_run(run_id):
                await asyncio.to_thread(save_spec, self.store, run_id, team, options)
                await team.a_run(message, built=built, silent=True)

        self._spawn(run_id, run())
        return run_id

    def _answers(self, run_id: str, found: dict) -> list[str]:
        """The answer given before a crash that the run had not recorded yet."""
        if found.get("answer") is None or found.get("answer_for") is None:
            return []
        inputs = self.store.records(run_id, "human_inputs")
        if inputs and inputs[-1]["kind"] == "request" and inputs[-1]["created_at"] == found["answer_for"]:
            return [found["answer"]]
        return []

    async def resume(self, run_id: str) -> None:
        """Continue a stored run that is not running here (stopped, interrupted, killed with the server)."""
        if run_id in self.tasks or run_id in self._resuming:
            raise RunConflict(f"run {run_id} is running")
        self._resuming.add(run_id)
        try:
            info = await asyncio.to_thread(self.store.get_run, run_id)
            if info.status == "finished":
                raise RunConflict(f"run {run_id} is finished ({info.reason or 'completed'}): nothing to resume")
            if not await asyncio.to_thread(self.claim, run_id):
                raise RunConflict(f"run {run_id} is running in another Studio process")
            try:
                await self._resume_claimed(run_id)
            except BaseException:
                await asyncio.to_thread(self._release, run_id)
                raise
        finally:
            self._resuming.discard(run_id)

    async def _resume_claimed(self, run_id: str) -> None:
        found = await asyncio.to_thread(self.row, run_id)
        answers = await asyncio.to_thread(self._answers, run_id, found or {})
        team, options = await asyncio.to_thread(stored_spec, self.store, run_id)
        # The Studio's rules hold again (this server may allow less than the one that started it).
        team, _ = studio_team(team.to_dict(), allow_unsandboxed=self.settings.allow_unsandboxed,
                              allow_modules=self.settings.allow_modules, allow_docs=self.settings.allow_docs)
        built = await asyncio.to_thread(team.build, allow_modules=self.settings.allow_modules, model=options.get("model"),
                                        allow_work_dirs=docs_paths(team))
        await asyncio.to_thread(self._update, run_id, state="active")

        async def run() -> None:
            if built.chat_queue is not None:
                queue = team.chat_queue(built, options.get("task"), silent=True)
                await self.store.a_resume(run_id, chat_queue=queue, human_input=answers)
            else:
                kwargs = {key: built.chat_kwargs[key] for key in ("summary_method", "summary_args") if key in built.chat_kwargs}
                await self.store.a_resume(run_id, list(built.agents.values()), human_input=answers, silent=True, **kwargs)

        self._spawn(run_id, run())

    def _spawn(self, run_id: str, body: Any) -> None:
        self.tasks[run_id] = asyncio.create_task(self._guard(run_id, body), name=f"parley-studio-run-{run_id}")

    async def _guard(self, run_id: str, body: Any) -> None:
        """Run ``body`` as run ``run_id`` (its events tagged, its questions to the browser); then
        say how it ended to the run's browsers."""
        current_run.set(run_id)  # this task's context: the run's events and the threads it starts
        error: str | None = None
        state: str | None = "done"
        try:
            with set_default(StudioInput(self, run_id)):
                await body
        except asyncio.CancelledError:
            state = None  # stopped (the row says so) or the server is shutting down (stays active: resumed at start)
        except Exception as failure:  # a run's failure is the run's, reported, not the server's
            error = redact(f"{type(failure).__name__}: {failure}")
            log.warning("parley studio: run %s failed: %s", run_id, error)
        finally:
            self.tasks.pop(run_id, None)
            self.questions.pop(run_id, None)
        try:
            if state is not None:
                await asyncio.to_thread(self._update, run_id, state=state)
            if not self._stopping:
                await asyncio.to_thread(self._release, run_id)
            await asyncio.to_thread(self.store.flush)
            info = await asyncio.to_thread(self.store.get_run, run_id)
            status, reason = info.status, info.reason
        except Exception as failure:  # the run may not have reached the store (failed before its first event)
            status, reason = "failed", None
            error = error or redact(str(failure))
        if not self._stopping:
            self.hub.publish(run_id, {"type": "RunStatus", "time": time.time(), "status": status, "reason": reason,
                                      **({"error": error} if error else {})})

    async def wait_for_answer(self, run_id: str, prompt: str) -> str:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.questions[run_id] = (future, prompt)
        try:
            return await future
        finally:
            if self.questions.get(run_id, (None,))[0] is future:
                del self.questions[run_id]

    async def answer(self, run_id: str, text: str) -> None:
        """Answer the run's pending human-input request."""
        pending = self.questions.get(run_id)
        if pending is None or pending[0].done():
            # Not asking here: another process's run (it picks the answer up), or one no process runs
            # now (its resume gives it).
            if not await asyncio.to_thread(self._store_answer, run_id, text):
                raise RunConflict(f"run {run_id} is not waiting for input")
            return
        # Stored first: if the server dies before the run records the answer, the resume gives it.
        await asyncio.to_thread(self._update, run_id, answer=text, answer_for=self.hub.request_times.get(run_id))
        if not pending[0].done():
            pending[0].set_result(text)

    def _store_answer(self, run_id: str, text: str) -> bool:
        """Store ``text`` as the answer to the run's pending question, if it has one."""
        self.store.flush()
        if self.store.get_run(run_id).status != "waiting_input":
            return False
        inputs = self.store.records(run_id, "human_inputs")
        if not inputs or inputs[-1]["kind"] != "request":
            return False
        self._update(run_id, answer=text, answer_for=inputs[-1]["created_at"])
        return True

    async def stop(self, run_id: str) -> None:
        await asyncio.to_thread(self._update, run_id, state="stopped")
        task = self.tasks.get(run_id)
        if task is not None:
            task.cancel()
            await asyncio.wait({task})

    async def resume_active(self) -> list[str]:
        """At startup: resume every run left active (running, or waiting for its human) by a server
        that stopped or died (and that no live process holds). Returns their ids."""
        return [run_id for run_id in await asyncio.to_thread(self._orphans) if await self._take_over(run_id)]

    async def _take_over(self, run_id: str) -> bool:
        """Resume an active run whose holder is gone; False when another process holds it, it
        ended, or it can't be resumed (then it is marked done: its user may still resume it)."""
        if run_id in self.tasks or run_id in self._resuming:
            return False
        self._resuming.add(run_id)
        try:
            if not await asyncio.to_thread(self.claim, run_id):
                return False
            try:
                info = await asyncio.to_thread(self.store.get_run, run_id)
            except RunNotFoundError:  # died before its first event was stored: nothing to resume
                info = None
            if info is None or info.status in ("finished", "failed"):
                await asyncio.to_thread(self._update, run_id, state="done", holder=None, held_until=None)
                return False
            try:
                await self._resume_claimed(run_id)
            except Exception as failure:  # one run that can't resume must not stop the server
                log.warning("parley studio: run %s could not be resumed: %s", run_id, redact(str(failure)))
                await asyncio.to_thread(self._update, run_id, state="done", holder=None, held_until=None)
                return False
            return True
        finally:
            self._resuming.discard(run_id)

    def start_tending(self) -> None:
        self._tending = asyncio.create_task(self._tend(), name="parley-studio-tend")

    async def _tend(self) -> None:
        """Every tick: renew this process's leases, take answers and stops given to other
        processes for its runs, and take over active runs whose holder is gone."""
        last_scan = time.monotonic()
        while True:
            await asyncio.sleep(_TICK_S)
            waiting = {run_id: self.hub.request_times.get(run_id) for run_id, (future, _) in self.questions.items()
                       if not future.done()}
            try:
                rows = await asyncio.to_thread(self._renew, list(self.tasks))
                for found in rows:
                    run_id = found["run_id"]
                    if found["state"] == "stopped" and run_id in self.tasks:
                        self.tasks[run_id].cancel()
                    asked_at = waiting.get(run_id)
                    pending = self.questions.get(run_id)
                    if (asked_at is not None and found["answer"] is not None and found["answer_for"] == asked_at
                            and pending is not None and not pending[0].done()):
                        pending[0].set_result(found["answer"])
                if time.monotonic() - last_scan >= LEASE_S / 3:
                    last_scan = time.monotonic()
                    for run_id in await asyncio.to_thread(self._orphans):
                        if await self._take_over(run_id):
                            log.warning("parley studio: took over run %s (its server process is gone)", run_id)
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # the store may be briefly unreachable; try again next tick
                log.warning("parley studio: tending runs: %s", redact(str(failure)))

    def _renew(self, live: list[str]) -> list[dict]:
        """Renew the leases of the runs running here; their rows (state, stored answer)."""
        if not live:
            return []
        with self.store.engine.begin() as connection:
            connection.execute(_rows.update().where(_rows.c.holder == self.identity, _rows.c.run_id.in_(live))
                               .values(held_until=time.time() + LEASE_S))
            return [dict(r) for r in connection.execute(
                sa.select(_rows.c.run_id, _rows.c.state, _rows.c.answer, _rows.c.answer_for).where(_rows.c.run_id.in_(live))
            ).mappings()]

    def _orphans(self) -> list[str]:
        now = time.time()
        with self.store.engine.connect() as connection:
            rows = connection.execute(sa.select(_rows.c.run_id, _rows.c.holder, _rows.c.held_until)
                                      .where(_rows.c.state == "active")).all()
        return [run_id for run_id, holder, held_until in rows
                if run_id not in self.tasks and run_id not in self._resuming and self._holder_gone(holder, held_until, now)]

    async def shutdown(self) -> None:
        """Cancel the running tasks (their runs stay active: the next start resumes them)."""
        self._stopping = True
        if self._tending is not None:
            self._tending.cancel()
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=30)
        # Free for another process at once (a restart of this one resumes them either way).
        with self.store.engine.begin() as connection:
            connection.execute(_rows.update().where(_rows.c.holder == self.identity).values(holder=None, held_until=None))
