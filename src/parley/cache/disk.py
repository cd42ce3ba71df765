"""Disk cache: a ``diskcache.Cache`` directory, as classic AutoGen keeps it.

``diskcache`` is SQLite underneath, safe across threads and processes (parallel scripts sharing
``.cache``), and keeps classic's layout: ``DiskCache(path)`` opens the directory ``path``
(``Cache.disk`` passes ``<cache_path_root>/<cache_seed>``). Values go in as given; parley's model
wrapper stores plain dicts of JSON values.
"""

from __future__ import annotations

from typing import Any

import diskcache  # type: ignore[import-untyped]

from .abstract_cache_base import ClosedOnExit


class DiskCache(ClosedOnExit):
    def __init__(self, seed: str | int) -> None:
        # Classic's name for the directory is ``seed``: the factory hands it the joined path.
        self.path = str(seed)
        self.cache = diskcache.Cache(seed)

    def get(self, key: str, default: Any = None) -> Any:
        return self.cache.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.cache.set(key, value)

    def close(self) -> None:
        self.cache.close()
