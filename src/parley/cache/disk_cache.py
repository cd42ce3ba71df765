"""Classic module path ``autogen.cache.disk_cache``."""

import diskcache  # type: ignore[import-untyped]  # classic's module exposes the library it is built on

from .disk import DiskCache

__all__ = ["DiskCache", "diskcache"]
