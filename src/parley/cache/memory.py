"""In-process cache: a dict per seed (values stored as JSON so they cannot be mutated by callers)."""

from __future__ import annotations

import json
from typing import Any

from .abstract_cache_base import ClosedOnExit

_stores: dict[str, dict[str, str]] = {}


class InMemoryCache(ClosedOnExit):
    def __init__(self, seed: str | int = "") -> None:
        self._store = _stores.setdefault(str(seed), {})

    def get(self, key: str, default: Any = None) -> Any:
        value = self._store.get(key)
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any) -> None:
        self._store[key] = json.dumps(value)

    def close(self) -> None:
        pass
