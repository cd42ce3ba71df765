"""Classic module path ``autogen.cache.redis_cache``."""

from .redis import RedisCache

__all__ = ["RedisCache"]
