"""The classic runtime-logging API: ``start(logger_type="sqlite"|"file", config=...)`` → session id,
``stop()``.

``otel`` makes OpenTelemetry spans (``config={"tracer_provider": provider}``, else the global
provider; see ``parley.telemetry``). ``sqlite`` records into a run store (``config={"dbname": "logs.db"}``, or ``{"url": ...}`` for any
SQLAlchemy URL): every chat becomes a run tagged with the session id, readable with
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
        # Error texts in notices may quote a key; a model call's params may hold headers.
        line = redact(json.dumps(record, default=str, ensure_ascii=False))
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
        if logger is not None:
            if not callable(logger):
                raise TypeError("logger must be a sink: a callable taking an event")
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
    store = get_store()
    if store is None:
        return None
    store.flush()
    return store.engine.raw_connection()


def get_store() -> Any:
    """The RunStore of a running sqlite session (None otherwise), to read what was logged."""
    return _active if hasattr(_active, "list_runs") else None
