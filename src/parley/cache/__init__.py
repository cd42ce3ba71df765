"""Response caches: ``Cache.disk`` (a ``diskcache`` directory), ``Cache.redis`` (a Redis server), ``Cache.in_memory``.

Nothing is cached unless the user asks (``cache=``, ``cache_seed`` or ``seed`` in llm_config).
Entries are namespaced by ``cache_seed``: a different seed gives fresh answers.

    with Cache.disk(cache_seed=42) as cache:
        user.initiate_chat(assistant, message="...", cache=cache)
"""

from __future__ import annotations

from typing import Any, Protocol


def check_cache_seed(cache_seed: Any, field: str = "cache_seed") -> None:
    """A clear error unless ``cache_seed`` is an int or a string usable as a folder name
    (a disk cache lives in ``<root>/<cache_seed>/``); ``field`` names it in the message."""
    if isinstance(cache_seed, int) and not isinstance(cache_seed, bool):
        return
    if isinstance(cache_seed, str):
        if cache_seed in ("", ".", "..") or any(sep in cache_seed for sep in ("/", "\\", "\0")):
            raise ValueError(f"{field} must be an int or a folder name (no '/', '\\', '.' or '..'), got {cache_seed!r}")
        return
    raise TypeError(f"{field} must be an int or a str (or None for no caching), got {type(cache_seed).__name__} {cache_seed!r}")


class CacheBackend(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def close(self) -> None: ...


class Cache:
    """A cache with the classic interface: ``get(key, default)``, ``set(key, value)``, ``close()``,
    and use as a context manager (closed on exit).

    Built from a backend, or classic-style from a config dict with the keys ``cache_seed``,
    ``redis_url``, ``cache_path_root`` (a Redis cache when ``redis_url`` is given, else disk).
    """

    ALLOWED_CONFIG_KEYS = ("cache_seed", "redis_url", "cache_path_root", "cosmos_db_config")

    def __init__(self, backend: CacheBackend | dict, cache_seed: str | int | None = None) -> None:
        if isinstance(backend, dict):
            backend, cache_seed = self._from_config(backend)
        self.backend: CacheBackend = backend
        self.cache_seed = cache_seed if cache_seed is not None else 42

    @classmethod
    def _from_config(cls, config: dict) -> tuple[CacheBackend, Any]:
        """The backend and seed of a classic cache config dict."""
        from .cache_factory import CacheFactory

        unknown = set(config) - set(cls.ALLOWED_CONFIG_KEYS)
        if unknown:
            raise ValueError(f"Cache config: unknown key(s) {', '.join(sorted(unknown))}; "
                             f"allowed: {', '.join(cls.ALLOWED_CONFIG_KEYS)}")
        cosmos = config.get("cosmos_db_config")
        seed: Any = config.get("cache_seed", cosmos.get("cache_seed", "42") if isinstance(cosmos, dict) else "42")
        # The folder under cache_path_root (or the Redis key prefix): checked as Cache.disk() checks
        # it, so that a seed like "../x" cannot name a folder outside the root. None names the
        # folder "None", as classic's str(seed) does.
        seed = "None" if seed is None else seed
        check_cache_seed(seed)
        backend = CacheFactory.cache_factory(
            seed=seed, redis_url=config.get("redis_url"), cache_path_root=config.get("cache_path_root"), cosmosdb_config=cosmos,
        )
        return backend, seed

    @property
    def cache(self) -> CacheBackend:
        """Classic name of the backend."""
        return self.backend

    @classmethod
    def disk(cls, cache_seed: str | int = 42, cache_path_root: str = ".cache") -> Cache:
        """A ``diskcache`` directory ``<cache_path_root>/<cache_seed>`` (classic's layout)."""
        import os

        from .disk import DiskCache

        check_cache_seed(cache_seed)
        return cls(DiskCache(os.path.join(cache_path_root, str(cache_seed))), cache_seed)

    @classmethod
    def redis(cls, cache_seed: str | int = 42, redis_url: str = "redis://localhost:6379/0") -> Cache:
        """Keys ``parley:<cache_seed>:<key>`` on the Redis server at ``redis_url`` (needs ``redis``)."""
        from .redis import RedisCache

        check_cache_seed(cache_seed)
        return cls(RedisCache(cache_seed, redis_url), cache_seed)

    @classmethod
    def in_memory(cls, cache_seed: str | int = 42) -> Cache:
        """A dict in this process, shared by all ``in_memory`` caches with the same seed."""
        from .memory import InMemoryCache

        check_cache_seed(cache_seed)
        return cls(InMemoryCache(cache_seed), cache_seed)

    def get(self, key: str, default: Any = None) -> Any:
        return self.backend.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.backend.set(key, value)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Any:
        # As classic: ``with Cache(...) as cache`` gives what the backend's own ``__enter__``
        # gives (the backend), which has the same get/set/close.
        enter = getattr(self.backend, "__enter__", None)
        if enter is not None:
            return enter()
        return self

    def __exit__(self, *exc: object) -> None:
        exit_ = getattr(self.backend, "__exit__", None)
        if exit_ is not None:
            exit_(*exc)
        else:
            self.close()

    def __repr__(self) -> str:
        return f"Cache({type(self.backend).__name__}, cache_seed={self.cache_seed!r})"


__all__ = ["Cache", "CacheBackend", "check_cache_seed"]
