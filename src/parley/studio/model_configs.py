"""``/api/models``: the models this server runs teams with, from its own ``OAI_CONFIG_LIST``
(environment variable or file, as the seed reads it; the embedded local model when there is
none). Keys stay on the server: an entry says whether it has one, never what it is; a base URL is
shown as scheme and host only (a URL may carry credentials or a key in its query)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter

from .auth import Caller
from .policy import SERVER_MODELS

router = APIRouter(prefix="/api")


def _host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def server_models() -> list[dict]:
    from ..models.config import config_list_from_json

    try:
        entries = config_list_from_json(SERVER_MODELS)
    except Exception:  # a list that can't be read is shown as none (its error may quote it)
        return []
    return [{"model": entry.get("model"), "api_type": entry.get("api_type"), "base_url": _host(entry.get("base_url")),
             "tags": entry.get("tags") or [], "has_key": bool(entry.get("api_key"))}
            for entry in entries if isinstance(entry, dict)]


@router.get("/models")
def list_models(who: Caller) -> dict:
    """``{"source": "OAI_CONFIG_LIST", "models": [...]}``: reference them in a spec as
    ``config_list: {env_or_file: OAI_CONFIG_LIST, filter_dict: {model: NAME}}``."""
    return {"source": SERVER_MODELS, "models": server_models()}
