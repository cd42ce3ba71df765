"""One task's chat as one run of the store, under a run id the caller chose. The same call
starts the run, resumes it when a worker that ran it died (the store has the run: its finished
turns, model calls and side effects are reused, not made again), or reports it when it had
already finished. A chat that raises is reported as failed, never raised: only a worker's death
is the caller's to retry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from .outcome import ChatOutcome, usage_of
from .team_source import TeamSource, first_message


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


async def run_chat(source: TeamSource, store: Any, index: int, run_id: str, task: Any, attempt: int = 1) -> ChatOutcome:
    """Run (or resume) task ``index`` as run ``run_id`` of ``store`` (a RunStore, attached)."""
    from ..store import RunNotFoundError

    info = None
    if attempt > 1:  # a first attempt's run id is new: no lookup (it would wait for the recorder's queue)
        try:
            info = store.get_run(run_id)
        except RunNotFoundError:
            pass
    try:
        if info is not None and info.status == "finished":
            return _stored_outcome(store, index, run_id, attempt)
        if info is not None and info.status == "failed":  # it failed on its own before its worker died
            return ChatOutcome(index, run_id, "failed", attempts=attempt,
                               error=f"the run failed ({info.reason or 'error'}); see parley runs show {run_id}")
        if info is not None:
            result = await _resume(source, store, run_id, task, await _build(source))
        else:
            result = await _start(source, store, index, run_id, task)
    except Exception as error:  # the chat's own failure: reported, not retried
        return ChatOutcome(index, run_id, "failed", error=_error_text(error), attempts=attempt)
    last = result[-1] if isinstance(result, list) else result
    usage, cost = usage_of(last.cost or {})
    return ChatOutcome(index, run_id, "finished", summary=last.summary, usage=usage, cost=cost, attempts=attempt)


async def _build(source: TeamSource) -> Any:
    """Fresh agents for one chat. A team with placed agents is built in a thread: starting their
    actors waits (``distributed.remote``), which would hold up every other chat of this loop."""
    if source.places_agents:
        return await asyncio.to_thread(source.build)
    return source.build()


async def _start(source: TeamSource, store: Any, index: int, run_id: str, task: Any) -> Any:
    team = source.team
    # Inside the run: a task that can't start (bad template variables, a team that doesn't
    # build) is a failed run of the store, as a chat that fails later is.
    with store.new_run(run_id):
        built = await _build(source)
        if built.chat_queue is not None:
            if not isinstance(task, str):
                raise TypeError(f"tasks[{index}]: a team of sequential chats takes a message (str) as its task")
            message = None
        else:
            message = first_message(built.template, task, index)
        if team is not None:
            from ..spec.runs import save_spec

            # Stored with the run: `parley resume RUN_ID` builds the same team again. In a thread:
            # it waits for the store's writer, which would hold up every other chat of this loop.
            options = {"model": source.model, "task": task if isinstance(task, str) else message,
                       "allow_modules": list(source.allow_modules), "allow_env": list(source.allow_env),
                       "allow_work_dirs": list(source.allow_work_dirs)}
            await asyncio.to_thread(save_spec, store, run_id, team, options)
        if built.chat_queue is not None:
            from ..chat.sequential import a_run_chats_in_order

            assert team is not None
            return await a_run_chats_in_order(team.chat_queue(built.built_team, task, True))
        return await built.initiator.a_initiate_chat(built.recipient, message=message, silent=True, **built.chat_kwargs)


async def _resume(source: TeamSource, store: Any, run_id: str, task: Any, built: Any) -> Any:
    if built.chat_queue is not None:
        assert source.team is not None
        return await store.a_resume(run_id, chat_queue=source.team.chat_queue(built.built_team, task, True))
    options = {key: built.chat_kwargs[key] for key in ("summary_method", "summary_args") if key in built.chat_kwargs}
    return await store.a_resume(run_id, built.agents, silent=True, **options)


def _stored_outcome(store: Any, index: int, run_id: str, attempt: int) -> ChatOutcome:
    """A run that finished before its worker could report it: its outcome from the store."""
    info = store.get_run(run_id)
    calls = store.records(run_id, "model_calls")
    prompt = sum(int(c["prompt_tokens"]) for c in calls)
    completion = sum(int(c["completion_tokens"]) for c in calls)
    summary = info.summary
    if isinstance(summary, str):
        try:
            summary = json.loads(summary) if summary.startswith(("{", "[")) else summary
        except ValueError:
            pass
    return ChatOutcome(index, run_id, "finished", summary=summary, cost=info.cost, attempts=attempt,
                       usage={"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
