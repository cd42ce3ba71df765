"""The classic runtime-logging API: ``start(logger_type="sqlite"|"file", config=...)`` → session id,
``stop()``.

``otel`` makes OpenTelemetry spans (``config={"tracer_provider": provider}``, else the global
provider; see ``parley.telemetry``). ``sqlite`` records into a run store (``config={"dbname": "logs.db"}``, or
``{"url": ...}`` for any SQLAlchemy URL): every chat becomes a run tagged with the session id, readable with
``parley runs``. ``file`` appends one JSON object per event to ``config={"filename": ...}``
(default ``runtime.log``). Both are sinks on the event stream. Neither writes a secret: events
carry no API keys, and what they write goes through ``parley.models.secrets.redact`` (every key,
credential header or query value a model client was built with, and key-shaped text).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from typing import Any

from . import events, telemetry  # telemetry imports OpenTelemetry only when enabled
from .images import shorten_data_urls
from .models.secrets import redact

_lock = threading.Lock()
_active: Any = None  # the running logger (a RunStore or a FileLogger)
_session_id: str | None = None


class FileLogger:
    """A sink writing each event as a JSON line: ``{"session_id", "event", "chat_id", ...fields}``."""

    def __init__(self, filename: str, session_id: str) -> None:
        self.filename = filename
        self.session_id = session_id
        try:
            self._file = open(filename, "a", encoding="utf-8")
        except OSError as error:
            raise ValueError(f"runtime_logging file logger: cannot open config['filename']={filename!r}: {error}") from None
        self._lock = threading.Lock()

    def __call__(self, event: events.Event) -> None:
        if type(event) is events.TokenStreamed:
            return
        record = {"session_id": self.session_id, "event": type(event).__name__, "chat_id": events.current_chat_id.get()}
        for field in dataclasses.fields(event):
            record[field.name] = getattr(event, field.name)
        # Error texts in notices may quote a key; a model call's params may hold headers. An
        # image's base64 is left out (its size and digest stand for it): one picture is megabytes.
        line = shorten_data_urls(redact(json.dumps(record, default=str, ensure_ascii=False)))
        with self._lock:
            self._file.write(line + "\n")

    def log_record(self, kind: str, fields: dict) -> None:
        """One ``runtime_logging.log_*`` call as a line (``fields`` already free of secrets)."""
        record = {"session_id": self.session_id, "event": kind, **fields}
        line = shorten_data_urls(redact(json.dumps(record, default=str, ensure_ascii=False)))
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


def start(logger: Any = None, logger_type: str = "sqlite", config: dict | None = None) -> str:
    """Start logging; returns the session id. ``logger`` may be a ready sink (callable on events)."""
    global _active, _session_id
    if logger_type not in ("sqlite", "file", "otel"):
        raise ValueError(f"logger_type must be 'sqlite', 'file' or 'otel', got {logger_type!r}")
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict, not {type(config).__name__}")
    config = dict(config or {})
    with _lock:
        if _active is not None:
            raise RuntimeError("runtime logging is already started; call runtime_logging.stop() first")
        session_id = str(uuid.uuid4())
        if logger is not None and hasattr(logger, "start") and hasattr(logger, "log_new_agent"):
            active = logger  # a classic-style logger (parley.logger.SqliteLogger, say): it starts itself
            session_id = logger.start()
        elif logger is not None:
            if not callable(logger):
                raise TypeError("logger must be a sink (a callable taking an event) or a logger with start() and log_*()")
            events.default_stream.add_sink(logger)
            active = logger
        elif logger_type == "otel":
            unknown = set(config) - {"tracer_provider"}
            if unknown:
                raise ValueError(f"runtime_logging otel logger: unknown config key(s) {', '.join(sorted(unknown))}; "
                                 "the only one is 'tracer_provider'")
            active = telemetry.enable(tracer_provider=config.get("tracer_provider"))
        elif logger_type == "file":
            active = FileLogger(config.get("filename", "runtime.log"), session_id)
            events.default_stream.add_sink(active)
        else:
            from .store import RunStore

            if "url" in config:
                target = config["url"]
            else:
                target = config.get("dbname", "logs.db")
                if not isinstance(target, str) or not target:
                    raise ValueError(f"runtime_logging: config['dbname'] must be a file name, got {target!r}")
            active = RunStore(target, session_id=session_id).attach()
        _active, _session_id = active, session_id
        return session_id


def stop() -> None:
    """Stop logging; everything logged so far is written."""
    global _active, _session_id
    with _lock:
        active, _active, _session_id = _active, None, None
    if active is None:
        return
    if hasattr(active, "detach") and hasattr(active, "engine"):  # a RunStore
        active.close()
    elif hasattr(active, "log_new_agent") and hasattr(active, "stop"):  # a classic-style logger
        active.stop()
    elif isinstance(active, telemetry.TelemetrySink):
        telemetry.disable()
    else:
        events.default_stream.remove_sink(active)
        if hasattr(active, "close"):
            active.close()


def logging_enabled() -> bool:
    return _active is not None


def get_session_id() -> str | None:
    return _session_id


def get_connection() -> Any:
    """Classic: a DB-API connection to the sqlite logger's database, everything logged so far
    written (None while another logger, or none, runs). Close it when done."""
    if _active is not None and not hasattr(_active, "list_runs") and hasattr(_active, "get_connection"):
        return _active.get_connection()
    store = get_store()
    if store is None:
        return None
    store.flush()
    return _LogConnection(store.engine.raw_connection())


class _LogConnection:
    """A pooled DB-API connection whose settings (``row_factory``, as classic code sets) apply to the
    driver's connection, and are undone when it goes back to the pool on ``close()``."""

    def __init__(self, pooled: Any) -> None:
        object.__setattr__(self, "_pooled", pooled)
        object.__setattr__(self, "_changed", {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pooled, name)

    def __setattr__(self, name: str, value: Any) -> None:
        driver = self._pooled.driver_connection
        self._changed.setdefault(name, getattr(driver, name, None))
        setattr(driver, name, value)

    def close(self) -> None:
        driver = self._pooled.driver_connection
        if driver is not None:
            for name, before in self._changed.items():
                setattr(driver, name, before)
        self._pooled.close()


def get_store() -> Any:
    """The RunStore of a running sqlite session (None otherwise), to read what was logged."""
    return _active if hasattr(_active, "list_runs") else None


# ---------------------------------------------------------------- classic log_* calls
# Classic code (and parley's agents and wrappers, when a session runs) report what they make and
# do; a sqlite session writes classic's tables (parley.store.classic_log), a file session a line.
# Without a session each call is a no-op, as classic's (which logged an error).


def _log(kind: str, write_row: Any, fields: Any, call: Any) -> None:
    active = _active
    if active is None:
        return
    if hasattr(active, "list_runs"):  # a RunStore
        write_row(active.engine, active.session_id)
    elif isinstance(active, FileLogger):
        from .store.classic_log import safe_json

        active.log_record(kind, json.loads(safe_json(fields())))
    elif hasattr(active, "log_" + kind):  # a classic-style logger object given to start()
        call(getattr(active, "log_" + kind))


def log_chat_completion(invocation_id: Any, client_id: int, wrapper_id: int, agent: Any = None, request: Any = None,
                        response: Any = None, is_cached: int = 0, cost: float = 0.0, start_time: str = "",
                        source: Any = None) -> None:
    """Log one model call in full (classic ``chat_completions``); ``agent`` (or ``source``) made it."""
    from .store import classic_log

    source = agent if agent is not None else source
    _log("chat_completion", lambda engine, session: classic_log.log_chat_completion(
        engine, session, invocation_id=invocation_id, client_id=client_id, wrapper_id=wrapper_id, source=source,
        request=request, response=response, is_cached=is_cached, cost=cost, start_time=start_time),
        lambda: {"invocation_id": str(invocation_id), "client_id": client_id, "wrapper_id": wrapper_id,
                 "request": request, "response": response, "is_cached": is_cached, "cost": cost,
                 "start_time": start_time, "source_name": getattr(source, "name", source)},
        lambda method: method(invocation_id, client_id, wrapper_id, source, request, response, is_cached, cost, start_time))


def log_new_agent(agent: Any, init_args: dict) -> None:
    """Log an agent and the arguments it was made with (classic ``agents``; secrets left out)."""
    from .store import classic_log

    _log("new_agent", lambda engine, session: classic_log.log_new_agent(engine, session, agent, init_args),
         lambda: {"agent_id": id(agent), "name": getattr(agent, "name", None), "class": type(agent).__name__,
                  "init_args": init_args},
         lambda method: method(agent, init_args))


def log_new_wrapper(wrapper: Any, init_args: dict) -> None:
    """Log a model wrapper and its configuration (classic ``oai_wrappers``; keys and endpoints left out)."""
    from .store import classic_log

    _log("new_wrapper", lambda engine, session: classic_log.log_new_wrapper(engine, session, wrapper, init_args),
         lambda: {"wrapper_id": id(wrapper), "init_args": init_args},
         lambda method: method(wrapper, init_args))


def log_new_client(client: Any, wrapper: Any, init_args: dict) -> None:
    """Log a provider client (classic ``oai_clients``; keys and endpoints left out)."""
    from .store import classic_log

    _log("new_client", lambda engine, session: classic_log.log_new_client(engine, session, client, wrapper, init_args),
         lambda: {"client_id": id(client), "wrapper_id": id(wrapper), "class": type(client).__name__,
                  "init_args": init_args},
         lambda method: method(client, wrapper, init_args))


def log_function_use(agent: Any, function: Any, args: Any, returns: Any) -> None:
    """Log a function an agent ran, with its arguments and result (classic ``function_calls``)."""
    from .store import classic_log

    _log("function_use", lambda engine, session: classic_log.log_function_use(engine, session, agent, function, args, returns),
         lambda: {"source_name": getattr(agent, "name", agent), "function_name": getattr(function, "__name__", str(function)),
                  "args": args, "returns": returns},
         lambda method: method(agent, function, args, returns))


def log_event(source: Any, name: str, **kwargs: Any) -> None:
    """Log a named event of an agent (or of a source named by a string) with its state (classic ``events``)."""
    from .store import classic_log

    _log("event", lambda engine, session: classic_log.log_event(engine, session, source, name, kwargs),
         lambda: {"source_name": getattr(source, "name", source), "event_name": name, "json_state": kwargs},
         lambda method: method(source, name, **kwargs))
