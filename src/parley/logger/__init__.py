"""Classic module path ``autogen.logger``: runtime loggers (see ``parley.runtime_logging``).

``LoggerFactory.get_logger("file", {"filename": ...})`` gives a ``FileLogger``;
``"sqlite"`` gives a ``SqliteLogger`` (a run store with the classic tables, as
``runtime_logging.start(logger_type="sqlite")`` uses); pass it to ``runtime_logging.start(logger=...)``.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..runtime_logging import FileLogger
from .sqlite_logger import SqliteLogger


class LoggerFactory:
    @staticmethod
    def get_logger(logger_type: str = "sqlite", config: dict | None = None) -> Any:
        config = dict(config or {})
        if logger_type == "file":
            return FileLogger(config.get("filename", "runtime.log"), str(uuid.uuid4()))
        if logger_type == "sqlite":
            return SqliteLogger(config)
        raise ValueError(f"logger_type must be 'sqlite' or 'file', got {logger_type!r}")


__all__ = ["FileLogger", "LoggerFactory", "SqliteLogger"]
