"""Store fixtures: a SQLite file, and a real PostgreSQL server started for the session."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster (initdb + pg_ctl as the ``postgres`` user) on 127.0.0.1."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    bindir = os.path.dirname(bins[-1])
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_postgres = ["runuser", "-u", "postgres", "--"]
    root = tempfile.mkdtemp(prefix="parley-pg-")
    shutil.chown(root, "postgres") if as_postgres else None
    data = os.path.join(root, "data")
    port = _free_port()
    subprocess.run([*as_postgres, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    subprocess.run(
        [*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "start",
         "-o", f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"],
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


# The empty store file tests copy, made once per process: a child forked from it (a mutant's run in
# bench/mutation.py) reuses it rather than running the migrations again (a second each).
_template: list[Path] = []


@pytest.fixture(scope="session")
def empty_store() -> Path:
    """A SQLite store file with the schema made: tests copy it (``store_file``)."""
    if not _template or not _template[0].exists():
        from parley.store import RunStore

        directory = tempfile.mkdtemp(prefix="parley-test-store-")
        owner = os.getpid()
        atexit.register(lambda: shutil.rmtree(directory, ignore_errors=True) if os.getpid() == owner else None)
        RunStore(Path(directory) / "runs.db").close()
        _template[:] = [Path(directory) / "runs.db"]
    return _template[0]


@pytest.fixture
def store_file(tmp_path, empty_store):
    """A new, empty SQLite store file of the test's own (a copy of ``empty_store``)."""
    path = tmp_path / "runs.db"
    shutil.copyfile(empty_store, path)
    return path


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url = request.getfixturevalue("postgres_url")
    # A fresh database per test so runs of different tests do not mix.
    import sqlalchemy as sa

    name = f"t{int(time.time() * 1e6)}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name
