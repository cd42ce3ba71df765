"""Classic module path ``autogen.cache.cache``."""

from . import Cache

__all__ = ["Cache"]
