"""Classic module path ``autogen.cache.disk_cache``."""

from .disk import DiskCache

__all__ = ["DiskCache"]
