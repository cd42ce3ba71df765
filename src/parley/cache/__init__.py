"""Response caches: ``Cache.disk`` (SQLite file), ``Cache.redis`` (a Redis server), ``Cache.in_memory``.

Nothing is cached unless the user asks (``cache=``, ``cache_seed`` or ``seed`` in llm_config).
Entries are namespaced by ``cache_seed``: a different seed gives fresh answers. Values are JSON.

    with Cache.disk(cache_seed=42) as cache:
        user.initiate_chat(assistant, message="...", cache=cache)
"""

from __future__ import annotations

from typing import Any, Protocol


class CacheBackend(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def close(self) -> None: ...


class Cache:
    """A cache with the classic interface: ``get(key, default)``, ``set(key, value)``, ``close()``,
    and use as a context manager (closed on exit)."""

    def __init__(self, backend: CacheBackend, cache_seed: str | int) -> None:
        self.backend = backend
        self.cache_seed = cache_seed

    @classmethod
    def disk(cls, cache_seed: str | int = 42, cache_path_root: str = ".cache") -> "Cache":
        """An SQLite file at ``<cache_path_root>/<cache_seed>/cache.sqlite``."""
        from .disk import DiskCache

        return cls(DiskCache(cache_seed, cache_path_root), cache_seed)

    @classmethod
    def redis(cls, cache_seed: str | int = 42, redis_url: str = "redis://localhost:6379/0") -> "Cache":
        """Keys ``parley:<cache_seed>:<key>`` on the Redis server at ``redis_url`` (needs ``redis``)."""
        from .redis import RedisCache

        return cls(RedisCache(cache_seed, redis_url), cache_seed)

    @classmethod
    def in_memory(cls, cache_seed: str | int = 42) -> "Cache":
        """A dict in this process, shared by all ``in_memory`` caches with the same seed."""
        from .memory import InMemoryCache

        return cls(InMemoryCache(cache_seed), cache_seed)

    def get(self, key: str, default: Any = None) -> Any:
        return self.backend.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.backend.set(key, value)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({type(self.backend).__name__}, cache_seed={self.cache_seed!r})"


__all__ = ["Cache", "CacheBackend"]
