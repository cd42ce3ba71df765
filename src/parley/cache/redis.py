"""Redis cache through redis-py; keys are ``parley:<cache_seed>:<key>``, values JSON."""

from __future__ import annotations

import json
from typing import Any

from .abstract_cache_base import ClosedOnExit


class RedisCache(ClosedOnExit):
    def __init__(self, cache_seed: str | int, redis_url: str) -> None:
        try:
            import redis
        except ImportError:
            raise ImportError("Cache.redis needs the 'redis' package: pip install 'parley[redis]'") from None
        self.prefix = f"parley:{cache_seed}:"
        self._client = redis.Redis.from_url(redis_url)

    def get(self, key: str, default: Any = None) -> Any:
        value = self._client.get(self.prefix + key)
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any) -> None:
        self._client.set(self.prefix + key, json.dumps(value))

    def close(self) -> None:
        self._client.close()
