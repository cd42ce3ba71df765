"""Runs of a spec in the run store: the spec is stored with its run (``parley_run_specs``: the
document, its hash, how it was run), so ``parley resume RUN_ID`` builds the same team again in
another process and continues the run, with no Python script.

The hash only detects an accidental change: whoever can write the store can write a matching
hash. So a resume grants nothing from the store: the stored document is validated again, and
what needs a grant (modules to import, environment variables, a work_dir outside the run's
folder, code run unsandboxed) needs it again on the resume's own command line."""

from __future__ import annotations

import json
import time
from typing import Any

from .errors import SpecError, SpecIssue
from .team import Team

Grants = tuple[str, ...] | list[str]


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
    try:
        team = Team.from_dict(json.loads(row["document"]))
        options = json.loads(row["options"])
    except SpecError as error:
        raise SpecError([SpecIssue("run", f"the spec stored with run {run_id} is not valid any more:"), *error.issues]) from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise SpecError(f"the spec stored with run {run_id} can't be read ({type(error).__name__}): the store was "
                        "changed or damaged", "run") from None
    if team.digest != row["digest"]:
        raise SpecError(f"the spec stored with run {run_id} does not match its hash: it was changed", "run")
    if not isinstance(options, dict):
        raise SpecError(f"the options stored with run {run_id} are not a mapping: the store was changed or damaged", "run")
    return team, options


def run_recorded(team: Team, store: Any, *, message: str | None = None, model: str | None = None,
                 allow_modules: Grants = (), run_id: str | None = None,
                 started: Any = None, silent: bool = False, allow_env: Grants = (),
                 allow_work_dirs: Grants = ()) -> tuple[str, Any]:
    """Run ``team`` as one recorded run of ``store`` (a RunStore), its spec stored with it before
    the first message; ``started(run_id)`` is called then. Returns (run id, result)."""
    # Import and grant errors before the run exists.
    built = team.build(allow_modules=allow_modules, model=model, allow_env=allow_env, allow_work_dirs=allow_work_dirs)
    task = message if message is not None else team.spec.run.task
    attached_here = not store.attached
    if attached_here:
        store.attach()
    try:
        with store.new_run(run_id) as run:
            save_spec(store, run.id, team, {"model": model, "task": task, "allow_modules": list(allow_modules),
                                            "allow_env": list(allow_env), "allow_work_dirs": list(allow_work_dirs)})
            if started is not None:
                started(run.id)
            result = team.run(message, built=built, silent=silent)
    finally:
        if attached_here:
            store.detach()
    return run.id, result


def resume_recorded(store: Any, run_id: str, *, allow_modules: Grants = (),
                    answers: list[str] | None = None, silent: bool = False, allow_env: Grants = (),
                    allow_work_dirs: Grants = (), allow_unsandboxed: bool = False, team: Team | None = None) -> Any:
    """Continue the stored run ``run_id`` of a spec: the same team built again, resumed. The
    grants are the caller's, never the store's; code run unsandboxed needs ``allow_unsandboxed``
    (``team``: the stored team, when the caller has read and reported it already)."""
    if team is None:
        team, options = stored_spec(store, run_id)
    else:
        options = stored_spec(store, run_id)[1]
    unsandboxed = team.validate().unsandboxed
    if unsandboxed and not allow_unsandboxed:
        raise SpecError([SpecIssue(f"agents.{name}.code_execution_config",
                                   "runs code UNSANDBOXED on this machine: a resume runs the document in the store, "
                                   "so say again that you want this: --allow-unsandboxed (allow_unsandboxed=True)")
                         for name in unsandboxed])
    model = options.get("model")
    if model not in (None, "local", "scripted"):
        raise SpecError(f"the options stored with run {run_id} name an unknown model {str(model)[:40]!r}", "run")
    built = team.build(allow_modules=allow_modules, model=model, allow_env=allow_env, allow_work_dirs=allow_work_dirs)
    if built.chat_queue is not None:
        task = options.get("task")
        return store.resume(run_id, chat_queue=team.chat_queue(built, task if isinstance(task, str) else None, silent),
                            human_input=answers)
    kwargs = {key: built.chat_kwargs[key] for key in ("summary_method", "summary_args") if key in built.chat_kwargs}
    return store.resume(run_id, list(built.agents.values()), human_input=answers, silent=silent, **kwargs)


__all__ = ["resume_recorded", "run_recorded", "save_spec", "stored_spec"]
