"""Durable runs: the run store (events → SQL), inspection, and resume after a crash.

``RunStore(url)`` records every chat as a run (SQLite file by default, any SQLAlchemy URL such
as Postgres); ``resume(run_id, agents=[...])`` finishes a run a crash or a stop interrupted.
SQLAlchemy and Alembic come with parley; a Postgres URL needs ``pip install 'parley[postgres]'``.
"""

from .errors import ResumeError, RunNotFoundError, StoreError
from .run_store import RunContext, RunInfo, RunStore, StoredMessage, a_resume, resume

__all__ = [
    "RunStore", "RunContext", "RunInfo", "StoredMessage", "resume", "a_resume",
    "StoreError", "RunNotFoundError", "ResumeError",
]
