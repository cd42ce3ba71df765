"""Runs of a spec in the run store: the spec is stored with its run (``parley_run_specs``: the
document, its hash, how it was run), so ``parley resume RUN_ID`` builds the same team again in
another process and continues the run, with no Python script."""

from __future__ import annotations

import json
import time
from typing import Any

from .errors import SpecError
from .team import Team


def save_spec(store: Any, run_id: str, team: Team, options: dict) -> None:
    """Store ``team`` (and ``options``: model, task, allowed modules) with the run ``run_id``."""
    from ..store import schema

    store.flush()  # the run's row first (the spec refers to it)
    with store.engine.begin() as connection:
        connection.execute(schema.run_specs.insert().values(
            run_id=run_id, digest=team.digest, name=team.name, document=team.to_json(),
            options=json.dumps(options, ensure_ascii=False), created_at=time.time()))


def stored_spec(store: Any, run_id: str) -> tuple[Team, dict]:
    """The team a run was started from and how; a SpecError when the run has no spec."""
    import sqlalchemy as sa

    from ..store import schema

    run_id = store.resolve(run_id)
    table = schema.run_specs
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(table).where(table.c.run_id == run_id)).mappings().first()
    if row is None:
        raise SpecError(f"run {run_id} was not started from a spec (parley run): resume it from Python with "
                        "parley.store.resume(run_id, agents=[...])", "run")
    team = Team.from_dict(json.loads(row["document"]))
    if team.digest != row["digest"]:
        raise SpecError(f"the spec stored with run {run_id} does not match its hash: it was changed", "run")
    return team, json.loads(row["options"])


def run_recorded(team: Team, store: Any, *, message: str | None = None, model: str | None = None,
                 allow_modules: tuple[str, ...] | list[str] = (), run_id: str | None = None,
                 started: Any = None, silent: bool = False) -> tuple[str, Any]:
    """Run ``team`` as one recorded run of ``store`` (a RunStore), its spec stored with it before
    the first message; ``started(run_id)`` is called then. Returns (run id, result)."""
    built = team.build(allow_modules=allow_modules, model=model)  # import errors before the run exists
    task = message if message is not None else team.spec.run.task
    attached_here = not store.attached
    if attached_here:
        store.attach()
    try:
        with store.new_run(run_id) as run:
            save_spec(store, run.id, team, {"model": model, "task": task, "allow_modules": list(allow_modules)})
            if started is not None:
                started(run.id)
            result = team.run(message, built=built, silent=silent)
    finally:
        if attached_here:
            store.detach()
    return run.id, result


def resume_recorded(store: Any, run_id: str, *, allow_modules: tuple[str, ...] | list[str] = (),
                    answers: list[str] | None = None, silent: bool = False) -> Any:
    """Continue the stored run ``run_id`` of a spec: the same team built again, resumed."""
    team, options = stored_spec(store, run_id)
    built = team.build(allow_modules=allow_modules, model=options.get("model"))
    if built.chat_queue is not None:
        return store.resume(run_id, chat_queue=team.chat_queue(built, options.get("task"), silent), human_input=answers)
    kwargs = {key: built.chat_kwargs[key] for key in ("summary_method", "summary_args") if key in built.chat_kwargs}
    return store.resume(run_id, list(built.agents.values()), human_input=answers, silent=silent, **kwargs)


__all__ = ["resume_recorded", "run_recorded", "save_spec", "stored_spec"]
