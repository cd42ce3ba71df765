"""Disk cache in an SQLite file, through the stdlib ``sqlite3``.

A cache is one key-value table, so the stdlib driver is enough: no SQLAlchemy import on the
model-call path, and the file opens in any SQLite tool. WAL mode lets several processes
(parallel scripts sharing ``.cache``) read while one writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any

from .abstract_cache_base import ClosedOnExit


class DiskCache(ClosedOnExit):
    def __init__(self, cache_seed: str | int, cache_path_root: str = ".cache") -> None:
        directory = os.path.join(cache_path_root, str(cache_seed))
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "cache.sqlite")
        # One connection used from the loop thread and possibly others (sync facades): serialise.
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, timeout=30, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"the disk cache {self.path!r} is closed")
        return self._db

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._connection().execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        text = json.dumps(value)
        with self._lock:
            self._connection().execute("INSERT OR REPLACE INTO cache (key, value) VALUES (?, ?)", (key, text))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
