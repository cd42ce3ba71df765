"""Classic module path ``autogen.logger``: runtime loggers (see ``parley.runtime_logging``).

``LoggerFactory.get_logger("file", {"filename": ...})`` gives a ``FileLogger``;
``"sqlite"`` gives the run store that ``runtime_logging.start(logger_type="sqlite")`` uses.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..runtime_logging import FileLogger


class LoggerFactory:
    @staticmethod
    def get_logger(logger_type: str = "sqlite", config: dict | None = None) -> Any:
        config = dict(config or {})
        if logger_type == "file":
            return FileLogger(config.get("filename", "runtime.log"), str(uuid.uuid4()))
        if logger_type == "sqlite":
            from ..store import RunStore

            return RunStore(config.get("url") or config.get("dbname", "logs.db"), session_id=str(uuid.uuid4()))
        raise ValueError(f"logger_type must be 'sqlite' or 'file', got {logger_type!r}")


__all__ = ["FileLogger", "LoggerFactory"]
