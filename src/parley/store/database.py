"""Opening a store database: URL checks, SQLite settings, schema migrations.

SQLite runs in WAL mode so that readers (``parley runs``) never block the writer and many
processes can append to one file; write transactions start with ``BEGIN IMMEDIATE`` so that two
writers queue on the busy timeout instead of failing with "database is locked" on a lock upgrade.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from .errors import StoreError
from .schema import SCHEMA_REVISION, VERSION_TABLE

DEFAULT_PATH = ".parley/runs.db"
BUSY_TIMEOUT_S = 60.0
_MIGRATION_LOCK = 0x7061726C6579  # "parley": the Postgres advisory lock schema changes hold
T = TypeVar("T")


def store_url(url_or_path: str | os.PathLike | None) -> str:
    """A SQLAlchemy URL from a URL, a file path, ``$PARLEY_STORE_URL`` or the default file."""
    if url_or_path is None:
        url_or_path = os.environ.get("PARLEY_STORE_URL") or DEFAULT_PATH
    if isinstance(url_or_path, os.PathLike):
        url_or_path = os.fspath(url_or_path)
    if not isinstance(url_or_path, str) or not url_or_path:
        raise StoreError(f"store url must be a SQLAlchemy URL or a file path, got {url_or_path!r}")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url_or_path):
        return url_or_path
    if url_or_path == ":memory:":  # SQLite's name for a database in memory (classic's logging tests use it)
        return "sqlite://"
    return "sqlite:///" + str(Path(url_or_path).expanduser().absolute())


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


def _sqlite_setup(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get("parley_write") else "BEGIN")


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a SQLite database or belongs to another application, reading it
    read-only first: the WAL setting would otherwise rewrite its header."""
    import sqlite3

    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise StoreError(f"cannot open store {str(path)!r}: {error}") from None
    if tables and VERSION_TABLE not in tables:
        raise StoreError(
            f"store {str(path)!r} is a database of another application (tables: {', '.join(sorted(tables)[:5])}); "
            "give a new file for the run store"
        )


def open_engine(url: str, create: bool = True) -> sa.Engine:
    """Connect, check the database is a parley store (or empty), and bring its schema up to date.
    ``create=False``: a SQLite file that does not exist is an error, not a new store (readers)."""
    shown = redact(url)
    try:
        parsed = sa.engine.make_url(url)
    except Exception as error:
        raise StoreError(f"store url {shown!r} is not a valid SQLAlchemy URL: {error}") from None
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if path.is_dir():
            raise StoreError(f"store file {str(path)!r} is a directory")
        if path.exists():
            _retry_locked(lambda: _check_sqlite_file(path), shown)
        elif not create:
            raise StoreError(f"no run store at {str(path)!r}: nothing has been recorded there "
                             "(give the store with --store or $PARLEY_STORE_URL)")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
    try:
        options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S}} if sqlite else {"pool_pre_ping": True}
        if sqlite and parsed.database in (None, "", ":memory:"):
            # One database in memory, the same for every thread (the recorder writes from its own).
            options = {"connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}, "poolclass": sa.pool.StaticPool}
        engine = sa.create_engine(parsed, **options)
    except Exception as error:
        raise StoreError(f"cannot use store {shown!r}: {error}") from None
    if sqlite:
        _sqlite_setup(engine)
    try:
        revision = _retry_locked(lambda: _revision(engine), shown)
    except sa.exc.OperationalError as error:
        engine.dispose()
        raise StoreError(f"cannot connect to store {shown!r}: {getattr(error, 'orig', error)}") from None
    except sa.exc.DatabaseError as error:
        engine.dispose()
        raise StoreError(f"cannot open store {shown!r}: {getattr(error, 'orig', error)}") from None
    except Exception as error:
        engine.dispose()
        raise StoreError(f"cannot connect to store {shown!r}: {error}") from None
    if revision != SCHEMA_REVISION:
        try:
            _retry_locked(lambda: _migrate(engine, shown), shown)
        except StoreError:
            engine.dispose()
            raise
        except Exception as error:  # any failure of the migration is the store error
            engine.dispose()
            raise StoreError(f"cannot create or upgrade the schema of store {shown!r}: {getattr(error, 'orig', error)}") from None
    return engine


def _revision(engine: sa.Engine, within: sa.Connection | None = None) -> str | None:
    """The store's schema revision (read ``within`` a transaction when given); None for a database without our tables."""
    if within is None:
        with engine.connect() as connection:
            return _revision(engine, connection)
    connection = within
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def _is_lock_error(error: BaseException) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "locked" in text or "busy" in text


def _retry_locked(step: Callable[[], T], shown: str) -> T:
    """Run ``step``, again after a pause while SQLite says the database is locked or busy: many
    processes opening one new file contend for it while the first sets WAL mode and creates the
    schema, and some of SQLite's lock waits return at once instead of waiting the busy timeout."""
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            return step()
        except (sa.exc.OperationalError, sqlite3.OperationalError) as error:
            if not _is_lock_error(error) or time.monotonic() > deadline:
                raise
        except StoreError as error:  # _check_sqlite_file's report of a locked file
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(delay * (0.5 + random.random()))  # jittered, so the waiting processes do not retry in step
        delay = min(delay * 2, 0.5)


def _migrate(engine: sa.Engine, shown: str) -> None:
    """Bring the schema to the head revision in one write transaction that first takes the write
    lock (SQLite ``BEGIN IMMEDIATE``, a Postgres advisory lock) and reads the revision again
    inside it: of many processes opening one new store, one creates the schema, the others wait
    for it and then find it done."""
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(files("parley.store") / "migrations"))
    with engine.execution_options(parley_write=True).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        revision = _revision(engine, connection)
        if revision == SCHEMA_REVISION:
            return
        if revision is not None and ScriptDirectory.from_config(config).get_revision(revision) is None:
            raise StoreError(f"store {shown!r} has schema revision {revision!r}, "
                             "unknown to this parley (made by a newer version?)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
