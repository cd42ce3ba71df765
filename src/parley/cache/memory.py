"""In-process cache: one dict for the process, keys prefixed with the seed (``<seed>_<key>``, as
classic), so every ``in_memory`` cache with the same seed sees the same entries. Values are
deep-copied in and out so that a caller changing a returned reply cannot change the cache."""

from __future__ import annotations

import copy
from typing import Any

from .abstract_cache_base import ClosedOnExit

_entries: dict[str, Any] = {}


class InMemoryCache(ClosedOnExit):
    def __init__(self, seed: str | int = "") -> None:
        self._seed = str(seed)
        self._cache = _entries

    def _prefixed_key(self, key: str) -> str:
        return f"{self._seed}_{key}" if self._seed else key

    def get(self, key: str, default: Any = None) -> Any:
        prefixed = self._prefixed_key(key)
        if prefixed not in self._cache:
            return default
        return copy.deepcopy(self._cache[prefixed])

    def set(self, key: str, value: Any) -> None:
        self._cache[self._prefixed_key(key)] = copy.deepcopy(value)

    def close(self) -> None:
        pass
