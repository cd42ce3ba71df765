"""Classic module path ``autogen.cache.abstract_cache_base``: what a cache backend offers."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AbstractCache(Protocol):
    """A cache backend: ``get``, ``set``, ``close`` and use as a context manager (closed on exit)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> AbstractCache: ...
    def __exit__(self, *exc: object) -> None: ...


class ClosedOnExit:
    """Mixin for backends: ``with Backend(...) as cache:`` closes it at the end of the block."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["AbstractCache", "ClosedOnExit"]
