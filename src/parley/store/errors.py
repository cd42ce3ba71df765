"""Errors of the run store (defined in ``parley.errors``, the one exception tree). Each says what
was wrong and where; none leaves the store changed."""

from __future__ import annotations

from ..errors import ResumeError, RunNotFoundError, StoreError

__all__ = ["ResumeError", "RunNotFoundError", "StoreError"]
