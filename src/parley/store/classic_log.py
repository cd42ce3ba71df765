"""Writing the classic runtime log's tables: ``agents``, ``oai_wrappers``, ``oai_clients``,
``function_calls``, ``events`` and ``chat_completions`` (what ``runtime_logging.log_*`` records).

Rows are written at once (not through the recorder's batches): classic callers read them back
right after. Nothing secret is written: constructor arguments lose the fields classic drops
(``api_key``, ``base_url``, ``azure_endpoint``, tokens, ...), and every JSON text is redacted with
the values dropped and the keys parley knows (``parley.models.secrets``). A write that fails is
logged, never raised: logging must not break a chat (classic's rule).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa

from ..agents.agent import Agent
from ..logger.logger_utils import get_current_ts
from ..models.secrets import SECRET_FIELDS, config_secrets, redact
from . import schema

logger = logging.getLogger(__name__)

# Constructor arguments classic leaves out of the log (secrets and where they are sent).
_DROPPED = frozenset({"self", "__class__", "organization", "base_url", "azure_endpoint", "azure_ad_token_provider",
                      "api_base", "http_client", *SECRET_FIELDS})


def _scrub(value: Any, dropped: list[str]) -> Any:
    """A JSON-safe copy of ``value`` without the dropped fields (their string values go to ``dropped``)."""
    if isinstance(value, dict):
        # Credential headers, query values and URL user-info of anything shaped like a config entry.
        dropped.extend(config_secrets(value))
        kept = {}
        for key, item in value.items():
            if key in _DROPPED:
                if isinstance(item, str):
                    dropped.append(item)
                continue
            kept[str(key)] = _scrub(item, dropped)
        return kept
    if isinstance(value, (list, tuple)):
        return [_scrub(item, dropped) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if callable(value) and hasattr(value, "__name__"):
        return f"<function {value.__qualname__ if hasattr(value, '__qualname__') else value.__name__}>"
    return f"<<non-serializable: {type(value).__qualname__}>>"


def safe_json(value: Any) -> str:
    """``value`` as JSON for the log: secret fields left out, every text redacted."""
    dropped: list[str] = []
    return redact(json.dumps(_scrub(value, dropped)), dropped)


def _name(source: Any) -> str:
    return source.name if hasattr(source, "name") else str(source)


def _run(engine: sa.Engine, table: sa.Table, write: Any) -> None:
    try:
        with engine.begin() as connection:
            write(connection)
    except (sa.exc.SQLAlchemyError, TypeError, ValueError) as error:
        # The error of the driver, not SQLAlchemy's text (which quotes the parameters).
        logger.error(f"[sqlite logger]Error running query with query INSERT INTO {table.name}: "
                     f"{redact(str(getattr(error, 'orig', None) or error))}")


def _upsert(engine: sa.Engine, table: sa.Table, key: dict, values: dict, replace: bool) -> None:
    """Insert the row; one with the same key is replaced (``replace``) or kept (classic's ON CONFLICT)."""
    def write(connection: sa.Connection) -> None:
        where = sa.and_(*(table.c[k] == v for k, v in key.items()))
        if connection.execute(sa.select(table.c.id).where(where)).first() is None:
            connection.execute(table.insert().values(**key, **values))
        elif replace:
            connection.execute(table.update().where(where).values(**values))
    _run(engine, table, write)


def log_new_agent(engine: sa.Engine, session_id: str, agent: Agent, init_args: dict) -> None:
    client = getattr(agent, "client", None)
    _upsert(engine, schema.classic_agents, {"agent_id": id(agent), "session_id": session_id}, {
        "wrapper_id": id(client) if client is not None else None, "name": _name(agent),
        "class_name": type(agent).__name__, "init_args": safe_json(init_args), "timestamp": get_current_ts(),
    }, replace=True)


def log_new_wrapper(engine: sa.Engine, session_id: str, wrapper: Any, init_args: dict) -> None:
    _upsert(engine, schema.classic_oai_wrappers, {"wrapper_id": id(wrapper), "session_id": session_id},
            {"init_args": safe_json(init_args), "timestamp": get_current_ts()}, replace=False)


def log_new_client(engine: sa.Engine, session_id: str, client: Any, wrapper: Any, init_args: dict) -> None:
    _upsert(engine, schema.classic_oai_clients, {"client_id": id(client), "session_id": session_id}, {
        "wrapper_id": id(wrapper), "class_name": type(client).__name__, "init_args": safe_json(init_args),
        "timestamp": get_current_ts(),
    }, replace=False)


def log_function_use(engine: sa.Engine, session_id: str, source: Any, function: Any, args: Any, returns: Any) -> None:
    row = {"session_id": session_id, "source_id": id(source), "source_name": _name(source),
           "function_name": getattr(function, "__name__", str(function)), "args": safe_json(args),
           "returns": safe_json(returns), "timestamp": get_current_ts()}
    _run(engine, schema.classic_function_calls, lambda c: c.execute(schema.classic_function_calls.insert().values(**row)))


def log_event(engine: sa.Engine, session_id: str, source: Any, name: str, state: dict) -> None:
    is_agent = not isinstance(source, str)
    row = {"session_id": session_id, "event_name": name, "source_id": id(source), "source_name": _name(source),
           "agent_module": type(source).__module__ if is_agent else None,
           "agent_class_name": type(source).__name__ if is_agent else None,
           "json_state": safe_json(state), "timestamp": get_current_ts()}
    _run(engine, schema.classic_events, lambda c: c.execute(schema.classic_events.insert().values(**row)))


def log_chat_completion(engine: sa.Engine, session_id: str, *, invocation_id: Any, client_id: int, wrapper_id: int,
                        source: Any, request: Any, response: Any, is_cached: int, cost: float, start_time: str) -> None:
    if response is None or isinstance(response, str):
        response = {"response": response}
    elif hasattr(response, "model_dump"):
        response = response.model_dump()
    row = {"invocation_id": str(invocation_id), "client_id": client_id, "wrapper_id": wrapper_id,
           "session_id": session_id, "source_name": _name(source) if source is not None else None,
           "request": safe_json(request), "response": safe_json(response), "is_cached": is_cached, "cost": cost,
           "start_time": start_time, "end_time": get_current_ts()}
    _run(engine, schema.chat_completions, lambda c: c.execute(schema.chat_completions.insert().values(**row)))
