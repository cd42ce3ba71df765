"""Errors of the run store. Each says what was wrong and where; none leaves the store changed."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used: a bad URL, a database that cannot be reached or is not ours."""


class RunNotFoundError(StoreError, KeyError):
    """No run has this id."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class ResumeError(StoreError):
    """A run cannot be resumed: it is finished, still running, or the agents do not match it."""
