"""Classic module path ``autogen.logger.sqlite_logger``: the runtime log in a SQLite file (or any
SQLAlchemy URL), which is a parley run store: chats are recorded as runs, and the classic tables
(``chat_completions``, ``agents``, ``oai_wrappers``, ``oai_clients``, ``function_calls``, ``events``)
are views over it. ``runtime_logging.start(logger=SqliteLogger({...}))`` uses one."""

from __future__ import annotations

import uuid
from typing import Any


class SqliteLogger:
    """``SqliteLogger({"dbname": "logs.db"})`` (or ``{"url": ...}``); ``start()`` gives the session id."""

    def __init__(self, config: dict | None = None) -> None:
        config = dict(config or {})
        unknown = set(config) - {"dbname", "url"}
        if unknown:
            raise ValueError(f"SqliteLogger config: unknown key(s) {', '.join(sorted(unknown))}; known: dbname, url")
        self.config = config
        self.session_id = str(uuid.uuid4())
        self.store: Any = None

    def start(self) -> str:
        from ..store import RunStore

        if self.store is None:
            url = self.config.get("url") or self.config.get("dbname", "logs.db")
            self.store = RunStore(url, session_id=self.session_id).attach()
        return self.session_id

    def _engine(self) -> Any:
        if self.store is None:
            raise RuntimeError("SqliteLogger is not started; call start() first")
        return self.store.engine

    def get_connection(self) -> Any:
        """A DB-API connection to the log, everything so far written; close it when done."""
        from ..runtime_logging import _LogConnection

        self._engine()
        self.store.flush()
        return _LogConnection(self.store.engine.raw_connection())

    def log_chat_completion(self, invocation_id: Any, client_id: int, wrapper_id: int, source: Any, request: Any,
                            response: Any, is_cached: int, cost: float, start_time: str) -> None:
        from ..store import classic_log

        classic_log.log_chat_completion(self._engine(), self.session_id, invocation_id=invocation_id, client_id=client_id,
                                        wrapper_id=wrapper_id, source=source, request=request, response=response,
                                        is_cached=is_cached, cost=cost, start_time=start_time)

    def log_new_agent(self, agent: Any, init_args: dict) -> None:
        from ..store import classic_log

        classic_log.log_new_agent(self._engine(), self.session_id, agent, init_args)

    def log_event(self, source: Any, name: str, **kwargs: Any) -> None:
        from ..store import classic_log

        classic_log.log_event(self._engine(), self.session_id, source, name, kwargs)

    def log_new_wrapper(self, wrapper: Any, init_args: dict) -> None:
        from ..store import classic_log

        classic_log.log_new_wrapper(self._engine(), self.session_id, wrapper, init_args)

    def log_new_client(self, client: Any, wrapper: Any, init_args: dict) -> None:
        from ..store import classic_log

        classic_log.log_new_client(self._engine(), self.session_id, client, wrapper, init_args)

    def log_function_use(self, source: Any, function: Any, args: Any, returns: Any) -> None:
        from ..store import classic_log

        classic_log.log_function_use(self._engine(), self.session_id, source, function, args, returns)

    def stop(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


__all__ = ["SqliteLogger"]
