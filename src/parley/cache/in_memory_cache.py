"""Classic module path ``autogen.cache.in_memory_cache``."""

from .memory import InMemoryCache

__all__ = ["InMemoryCache"]
