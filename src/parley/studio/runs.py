"""The runs API: start (a saved team, a gallery team or a spec object), list, read, answer the
human-input request, stop, resume, export; and the WebSocket of a run's events. Every route
looks a run up through its owner: another user's run is "not found"."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ..spec import SpecError, gallery
from ..store import RunNotFoundError, StoreError
from .auth import Caller, Principal, StudioState, websocket_principal, websocket_subprotocol
from .event_feed import encode, recorded_events
from .policy import issues_json
from .runner import RunConflict
from .teams import load_team, team_row

router = APIRouter(prefix="/api")
log = logging.getLogger("parley.studio")


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: StrictStr | dict[str, Any] = Field(description="a saved team's id, a gallery team's name, or a spec object")
    message: StrictStr | None = Field(None, description="the task (fills {task} in the spec's message); default: the spec's task")
    model: StrictStr | None = Field(
        None, description="null: the spec's models; 'scripted': a deterministic script (demos, tests)")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: StrictStr



def _owned(studio: Any, run_id: str, who: Principal) -> dict:
    found = studio.runner.owned(run_id, who)
    if found is None:
        raise HTTPException(404, f"no run {run_id!r}")
    return found


def _summary(studio: Any, info: Any, found: dict) -> dict:
    item = asdict(info)
    for private in ("pid", "host"):
        item.pop(private, None)
    item.update(team=found["team_name"], team_id=found["team_id"], state=found["state"],
                live=studio.runner.live(info.id))
    return item


@router.post("/runs", status_code=201)
async def start_run(body: StartRun, request: Request, who: Caller) -> Any:
    studio = request.app.state.studio
    team_id = None
    try:
        if isinstance(body.team, dict):
            team, notes = load_team(studio, body.team)
        else:
            saved = await asyncio.to_thread(_saved_team, studio, body.team, who)
            if saved is not None:
                team_id = body.team
                team, notes = load_team(studio, saved)
            elif body.team in gallery.names():
                team, notes = load_team(studio, gallery.load(body.team).to_dict())
            else:
                raise HTTPException(404, f"no saved team or gallery team named {body.team!r}")
        if body.model not in (None, "scripted"):
            raise SpecError("must be null (the spec's models) or 'scripted'", "model")
        run_id = await studio.runner.start(team, body.message, who, team_id=team_id, model=body.model)
    except SpecError as error:
        return JSONResponse({"detail": "the team can't run", "errors": issues_json(error)}, status_code=422)
    return {"id": run_id, "notes": notes}


def _saved_team(studio: Any, team_id: str, who: Principal) -> dict | None:
    try:
        return json.loads(team_row(studio, team_id, who)["document"])
    except HTTPException:
        return None


@router.get("/runs")
def list_runs(who: Caller, studio: StudioState) -> list[dict]:
    rows = studio.runner.owned_rows(who)
    infos = {info.id: info for info in studio.store.list_runs(limit=None)}
    return [_summary(studio, infos[found["run_id"]], found) for found in rows if found["run_id"] in infos]


@router.get("/runs/{run_id}")
def get_run(run_id: str, who: Caller, studio: StudioState) -> dict:
    found = _owned(studio, run_id, who)
    try:
        info = studio.store.get_run(run_id)
    except RunNotFoundError:
        raise HTTPException(404, f"run {run_id!r} has not started yet") from None
    item = _summary(studio, info, found)
    item["messages"] = [{"sender": m.sender, "recipient": m.recipient, "message": m.message, "created_at": m.created_at}
                        for m in studio.store.messages(run_id)]
    usage: dict[str, dict] = {}
    for call in studio.store.records(run_id, "model_calls"):
        entry = usage.setdefault(call["model"], {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0})
        entry["calls"] += 1
        entry["prompt_tokens"] += call["prompt_tokens"]
        entry["completion_tokens"] += call["completion_tokens"]
        entry["cost"] += 0.0 if call["cached"] else call["cost"]
    item["usage"] = usage
    question = studio.runner.questions.get(run_id)
    if question is None and info.status == "waiting_input":
        inputs = studio.store.records(run_id, "human_inputs")
        if inputs and inputs[-1]["kind"] == "request":
            question = (None, inputs[-1]["text"])
    item["input_request"] = {"prompt": question[1]} if question is not None else None
    return item


@router.post("/runs/{run_id}/input")
async def answer(run_id: str, body: Answer, request: Request, who: Caller) -> dict:
    studio = request.app.state.studio
    await asyncio.to_thread(_owned, studio, run_id, who)
    try:
        await studio.runner.answer(run_id, body.text)
    except RunConflict as error:
        raise HTTPException(409, str(error)) from None
    return {"ok": True}


@router.post("/runs/{run_id}/stop")
async def stop(run_id: str, request: Request, who: Caller) -> dict:
    studio = request.app.state.studio
    await asyncio.to_thread(_owned, studio, run_id, who)
    await studio.runner.stop(run_id)
    info = await asyncio.to_thread(studio.store.get_run, run_id)
    return {"id": run_id, "status": info.status}


@router.post("/runs/{run_id}/resume")
async def resume(run_id: str, request: Request, who: Caller) -> Any:
    studio = request.app.state.studio
    await asyncio.to_thread(_owned, studio, run_id, who)
    try:
        await studio.runner.resume(run_id)
    except RunConflict as error:
        raise HTTPException(409, str(error)) from None
    except (SpecError, StoreError) as error:
        return JSONResponse({"detail": f"run {run_id} can't be resumed: {error}"}, status_code=409)
    return {"id": run_id, "resumed": True}


@router.get("/runs/{run_id}/export")
def export(run_id: str, who: Caller, studio: StudioState,
           format: Annotated[str, Query(pattern="^(json|md)$")] = "json") -> Any:
    _owned(studio, run_id, who)
    text = studio.store.export(run_id, format)
    media = "application/json" if format == "json" else "text/markdown; charset=utf-8"
    filename = f"run-{run_id}.{format}"
    return PlainTextResponse(text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.websocket("/runs/{run_id}/events")
async def run_events(websocket: WebSocket, run_id: str) -> None:
    """The run's events as JSON text frames: everything recorded, then ``{"type": "ReplayFinished"}``,
    then live events as they happen (and ``{"type": "RunStatus"}`` when the run's task ends)."""
    studio = websocket.app.state.studio
    try:
        who = await asyncio.to_thread(websocket_principal, websocket)
    except HTTPException:
        await websocket.close(code=1008)  # before accept: the handshake is refused with 403
        return
    if await asyncio.to_thread(studio.runner.owned, run_id, who) is None:
        await websocket.close(code=1008)
        return
    await websocket.accept(subprotocol=websocket_subprotocol(websocket))
    subscriber = studio.hub.subscribe(run_id)

    async def watch_close() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # browsers send nothing; a message is ignored
        subscriber.close()

    watcher = asyncio.create_task(watch_close())
    tailer: asyncio.Task | None = None
    try:
        await asyncio.to_thread(studio.store.flush)
        replay = await asyncio.to_thread(recorded_events, studio.store, run_id)
        seen = set()
        for item in replay:
            seen.add((item["type"], item["time"]))
            await websocket.send_text(encode(item))
        status = None
        try:
            status = (await asyncio.to_thread(studio.store.get_run, run_id)).status
        except RunNotFoundError:
            pass
        live = studio.runner.live(run_id)
        await websocket.send_text(encode({"type": "ReplayFinished", "run_id": run_id, "time": time.time(), "status": status,
                                          "live": live}))
        if not live:
            tailer = asyncio.create_task(_tail(studio, run_id, subscriber, max((i["time"] for i in replay), default=0.0)))
        queue = subscriber.queue
        while True:
            entry = await queue.get()
            if entry is None:
                break
            if entry[0] not in seen:  # a replayed event emitted while the replay was read, or stored twice
                seen.add(entry[0])
                await websocket.send_text(entry[1])
        if subscriber.overflowed:
            await websocket.close(code=1013, reason="too far behind: reconnect to replay")
    except Exception as error:  # the browser went away mid-send
        log.debug("parley studio: events of run %s: %s", run_id, error)
    finally:
        watcher.cancel()
        if tailer is not None:
            tailer.cancel()
        studio.hub.unsubscribe(run_id, subscriber)


TAIL_S = 0.5  # how often the store is read for the events of a run another process runs
_ENDED = ("finished", "failed", "interrupted")


async def _tail(studio: Any, run_id: str, subscriber: Any, after: float) -> None:
    """The recorded events of a run this process does not run (another Studio process on the same
    store does, or nobody now), as the store gets them; then its ``RunStatus`` once it ended. Stops
    when this process takes the run on (its own events then come live)."""
    while not studio.runner.live(run_id):
        await asyncio.sleep(TAIL_S)
        items = await asyncio.to_thread(recorded_events, studio.store, run_id)
        for item in items:
            if item["time"] > after:  # batches are committed in order: what is new came after
                subscriber.put(((item["type"], item["time"]), encode(item)))
        after = max([after, *(item["time"] for item in items)])
        info = await asyncio.to_thread(studio.store.get_run, run_id)
        found = await asyncio.to_thread(studio.runner.row, run_id)
        if info.status in _ENDED and found is not None and found["holder"] is None and not studio.runner.live(run_id):
            subscriber.put((("RunStatus", None), encode({"type": "RunStatus", "run_id": run_id, "time": time.time(),
                                                          "status": info.status, "reason": info.reason})))
            return
