"""Classic module path ``autogen.cache.disk_cache``."""

import diskcache  # classic's module exposes the library it is built on

from .disk import DiskCache

__all__ = ["DiskCache", "diskcache"]
