"""Runs as asyncio tasks of the server, durable in the run store.

A run is started (or resumed) as a task of the server's event loop; everything it does is
recorded by the run store, the spec it runs with it (``parley.spec.runs``). A human-input request
is stored before it is asked (the recorder flushes it) and then waits, as long as it takes, for
``POST /api/runs/{id}/input``; the answer is stored with the Studio's row of the run before the run
gets it, so that a crash before the run recorded it loses nothing. The Studio's row says whether
the run should go on (``active``), was stopped by its user, or is done; on startup every active
run that did not finish is resumed from the store (``parley.store.resume``): after ``kill -9``
the finished transcript is the uninterrupted run's.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import sqlalchemy as sa

from ..io import set_default
from ..models.secrets import redact
from ..spec import Team
from ..spec.runs import save_spec, stored_spec
from ..store import RunNotFoundError, schema
from .auth import Principal
from .event_feed import EventHub, current_run
from .policy import studio_team
from .settings import StudioSettings

log = logging.getLogger("parley.studio")
_rows = schema.studio_runs


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

    # ------------------------------------------------------------------ starting, resuming, stopping

    def live(self, run_id: str) -> bool:
        return run_id in self.tasks

    async def start(self, team: Team, message: str | None, principal: Principal, *, team_id: str | None = None,
                    model: str | None = None) -> str:
        """Start ``team`` on ``message`` (its own task when None) as a new run; returns its id.
        SpecError when the team can't be built (an import not allowed, a model reference)."""
        built = await asyncio.to_thread(team.build, allow_modules=self.settings.allow_modules, model=model)
        run_id = str(uuid.uuid4())
        with self.store.engine.begin() as connection:
            connection.execute(_rows.insert().values(run_id=run_id, owner=principal.user, team_id=team_id, team_name=team.name,
                                                     state="active", created_at=time.time()))
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
        if run_id in self.tasks:
            raise RunConflict(f"run {run_id} is running")
        info = await asyncio.to_thread(self.store.get_run, run_id)
        if info.status == "finished":
            raise RunConflict(f"run {run_id} is finished ({info.reason or 'completed'}): nothing to resume")
        found = await asyncio.to_thread(self.row, run_id)
        answers = await asyncio.to_thread(self._answers, run_id, found or {})
        team, options = await asyncio.to_thread(stored_spec, self.store, run_id)
        # The Studio's rules hold again (this server may allow less than the one that started it).
        team, _ = studio_team(team.to_dict(), allow_unsandboxed=self.settings.allow_unsandboxed,
                              allow_modules=self.settings.allow_modules)
        built = await asyncio.to_thread(team.build, allow_modules=self.settings.allow_modules, model=options.get("model"))
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
        except Exception as failure:  # noqa: BLE001 - a run's failure is the run's, reported, not the server's
            error = redact(f"{type(failure).__name__}: {failure}")
            log.warning("parley studio: run %s failed: %s", run_id, error)
        finally:
            self.tasks.pop(run_id, None)
            self.questions.pop(run_id, None)
        try:
            if state is not None:
                await asyncio.to_thread(self._update, run_id, state=state)
            await asyncio.to_thread(self.store.flush)
            info = await asyncio.to_thread(self.store.get_run, run_id)
            status, reason = info.status, info.reason
        except Exception as failure:  # noqa: BLE001 - the run may not have reached the store (failed before its first event)
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
            raise RunConflict(f"run {run_id} is not waiting for input")
        # Stored first: if the server dies before the run records the answer, the resume gives it.
        await asyncio.to_thread(self._update, run_id, answer=text, answer_for=self.hub.request_times.get(run_id))
        if not pending[0].done():
            pending[0].set_result(text)

    async def stop(self, run_id: str) -> None:
        await asyncio.to_thread(self._update, run_id, state="stopped")
        task = self.tasks.get(run_id)
        if task is not None:
            task.cancel()
            await asyncio.wait({task})

    async def resume_active(self) -> list[str]:
        """At startup: resume every run left active (running, or waiting for its human) by a server
        that stopped or died. Returns their ids."""
        def active() -> list[str]:
            with self.store.engine.connect() as connection:
                return list(connection.execute(sa.select(_rows.c.run_id).where(_rows.c.state == "active")).scalars())

        resumed = []
        for run_id in await asyncio.to_thread(active):
            try:
                info = await asyncio.to_thread(self.store.get_run, run_id)
            except RunNotFoundError:  # died before its first event was stored: nothing to resume
                await asyncio.to_thread(self._update, run_id, state="done")
                continue
            if info.status in ("finished", "failed"):
                await asyncio.to_thread(self._update, run_id, state="done")
                continue
            try:
                await self.resume(run_id)
                resumed.append(run_id)
            except Exception as failure:  # noqa: BLE001 - one run that can't resume must not stop the server
                log.warning("parley studio: run %s could not be resumed: %s", run_id, redact(str(failure)))
        return resumed

    async def shutdown(self) -> None:
        """Cancel the running tasks (their runs stay active: the next start resumes them)."""
        self._stopping = True
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=30)
