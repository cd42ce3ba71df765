"""Opening a store database: URL checks, SQLite settings, schema migrations.

SQLite runs in WAL mode so that readers (``parley runs``) never block the writer and many
processes can append to one file; write transactions start with ``BEGIN IMMEDIATE`` so that two
writers queue on the busy timeout instead of failing with "database is locked" on a lock upgrade.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .errors import StoreError
from .schema import SCHEMA_REVISION, VERSION_TABLE

DEFAULT_PATH = ".parley/runs.db"
BUSY_TIMEOUT_S = 60.0


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


def open_engine(url: str) -> sa.Engine:
    """Connect, check the database is a parley store (or empty), and bring its schema up to date."""
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
            _check_sqlite_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S}} if sqlite else {"pool_pre_ping": True}
        engine = sa.create_engine(parsed, **options)
    except Exception as error:
        raise StoreError(f"cannot use store {shown!r}: {error}") from None
    if sqlite:
        _sqlite_setup(engine)
    try:
        with engine.connect() as connection:
            revision = None
            if sa.inspect(connection).has_table(VERSION_TABLE):
                revision = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
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
        _migrate(engine, shown, revision)
    return engine


def _migrate(engine: sa.Engine, shown: str, revision: str | None) -> None:
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(files("parley.store") / "migrations"))
    if revision is not None and ScriptDirectory.from_config(config).get_revision(revision) is None:
        engine.dispose()
        raise StoreError(f"store {shown!r} has schema revision {revision!r}, unknown to this parley (made by a newer version?)")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
