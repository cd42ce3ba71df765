"""Saved teams (``/api/teams``), the gallery (``/api/gallery``) and validation
(``/api/teams/validate``): specs as JSON documents (or ``{"yaml": text}``), checked under the
Studio's rules (``policy``), each problem named by its path as ``parley spec validate`` does."""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import JSONResponse

from ..spec import SpecError, Team, gallery
from ..store import schema
from .auth import Caller, Principal, StudioState
from .policy import issues_json, studio_team

router = APIRouter(prefix="/api")
_teams = schema.studio_teams



def spec_error_response(error: SpecError) -> JSONResponse:
    return JSONResponse({"detail": "the team spec has problems", "errors": issues_json(error)}, status_code=422)


def load_team(studio: Any, body: Any) -> tuple[Team, list[str]]:
    """A spec object, or ``{"yaml": text}``, as a Team under the Studio's rules."""
    if isinstance(body, dict) and set(body) == {"yaml"}:
        if not isinstance(body["yaml"], str):
            raise SpecError("must be the spec's YAML text", "yaml")
        body = Team.from_yaml(body["yaml"]).to_dict()
    return studio_team(body, allow_unsandboxed=studio.settings.allow_unsandboxed,
                       allow_modules=studio.settings.allow_modules, allow_docs=studio.settings.allow_docs)


def _owner_clause(who: Principal) -> Any:
    return _teams.c.owner.is_(None) if who.user is None else _teams.c.owner == who.user


def team_row(studio: Any, team_id: str, who: Principal) -> dict:
    with studio.store.engine.connect() as connection:
        row = connection.execute(sa.select(_teams).where(_teams.c.id == team_id, _owner_clause(who))).mappings().first()
    if row is None:
        raise HTTPException(404, f"no team {team_id!r}")
    return dict(row)


def _team_json(row: dict, *, document: bool = True) -> dict:
    item = {"id": row["id"], "name": row["name"], "created_at": row["created_at"], "updated_at": row["updated_at"]}
    if document:
        item["spec"] = json.loads(row["document"])
    return item


@router.get("/gallery")
def list_gallery(who: Caller) -> list[dict]:
    teams = []
    for name in gallery.names():
        team = gallery.load(name)
        teams.append({"name": name, "description": team.spec.description, "spec": team.to_dict(), "yaml": gallery.text(name)})
    return teams


@router.post("/teams/validate")
def validate(body: Annotated[Any, Body()], who: Caller, studio: StudioState) -> Any:
    """``{"valid": true, "notes": [...]}`` or 422 with ``errors`` (each ``path``, ``message``, ``line``)."""
    try:
        team, notes = load_team(studio, body)
    except SpecError as error:
        return JSONResponse({"valid": False, "errors": issues_json(error)}, status_code=422)
    return {"valid": True, "name": team.name, "digest": team.digest, "notes": notes}


@router.get("/teams")
def list_teams(who: Caller, studio: StudioState) -> list[dict]:
    with studio.store.engine.connect() as connection:
        rows = connection.execute(sa.select(_teams).where(_owner_clause(who)).order_by(_teams.c.updated_at.desc())).mappings()
        return [_team_json(dict(row), document=False) for row in rows]


@router.post("/teams", status_code=201)
def create_team(body: Annotated[Any, Body()], who: Caller, studio: StudioState) -> Any:
    try:
        team, notes = load_team(studio, body)
    except SpecError as error:
        return spec_error_response(error)
    now = time.time()
    # The spec as written (the sandbox is put in place when it runs, under the rules of that day's server).
    row = {"id": uuid.uuid4().hex, "owner": who.user, "name": team.name,
           "document": json.dumps(_as_written(body), ensure_ascii=False), "created_at": now, "updated_at": now}
    with studio.store.engine.begin() as connection:
        connection.execute(_teams.insert().values(**row))
    return {**_team_json(row), "notes": notes}


def _as_written(body: Any) -> dict:
    if isinstance(body, dict) and set(body) == {"yaml"}:
        return Team.from_yaml(body["yaml"]).to_dict()
    return Team.from_dict(body).to_dict()


@router.get("/teams/{team_id}")
def get_team(team_id: str, who: Caller, studio: StudioState) -> dict:
    row = team_row(studio, team_id, who)
    return {**_team_json(row), "yaml": Team.from_dict(json.loads(row["document"])).to_yaml()}


@router.put("/teams/{team_id}")
def update_team(team_id: str, body: Annotated[Any, Body()], who: Caller, studio: StudioState) -> Any:
    team_row(studio, team_id, who)
    try:
        team, notes = load_team(studio, body)
    except SpecError as error:
        return spec_error_response(error)
    values = {"name": team.name, "document": json.dumps(_as_written(body), ensure_ascii=False), "updated_at": time.time()}
    with studio.store.engine.begin() as connection:
        connection.execute(_teams.update().where(_teams.c.id == team_id, _owner_clause(who)).values(**values))
    return {**_team_json(team_row(studio, team_id, who)), "notes": notes}


@router.delete("/teams/{team_id}", status_code=204)
def delete_team(team_id: str, who: Caller, studio: StudioState) -> None:
    team_row(studio, team_id, who)
    with studio.store.engine.begin() as connection:
        connection.execute(_teams.delete().where(_teams.c.id == team_id, _owner_clause(who)))
