"""Classic module path ``autogen.cache.cache_factory``: the backend for a classic cache config."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import CacheBackend


class CacheFactory:
    @staticmethod
    def cache_factory(seed: str | int, redis_url: str | None = None, cache_path_root: str | None = ".cache",
                      cosmosdb_config: dict | None = None) -> CacheBackend:
        """A Redis cache when ``redis_url`` is given, else a disk cache under ``cache_path_root``
        (default ``.cache``) for ``seed``."""
        if redis_url:
            from .redis import RedisCache

            return RedisCache(seed, redis_url)
        if cosmosdb_config:
            raise ValueError("Cache config: cosmos_db_config is not supported by parley; use redis_url or cache_path_root")
        from .disk import DiskCache

        return DiskCache(os.path.join(cache_path_root or ".cache", str(seed)))


__all__ = ["CacheFactory"]
