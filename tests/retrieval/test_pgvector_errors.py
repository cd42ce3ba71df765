"""PGVectorDB's connection errors never repeat the password (psycopg quotes a malformed URI whole)."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg")
pytest.importorskip("pgvector")

from parley.retrieval.pgvector import PGVectorDB


@pytest.mark.parametrize("connection_string", [
    "postgresql://bob:pw-SECRET-1@[bad/db",            # a malformed host: psycopg's message quotes the URI
    "postgresql+psycopg://bob:pw-SECRET-1@[bad/db",
    "host=127.0.0.1 port=1 password=pw-SECRET-1 bogus",  # key=value form with a syntax error
])
def test_a_connection_error_holds_no_password(connection_string):
    import psycopg

    with pytest.raises(psycopg.Error) as caught:
        PGVectorDB(connection_string=connection_string, connect_timeout=2)
    assert "pw-SECRET-1" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_connection_error_from_fields_holds_no_password():
    import psycopg

    with pytest.raises(psycopg.Error) as caught:
        PGVectorDB(host="[bad", port=1, dbname="db", username="bob", password="pw-SECRET-1", connect_timeout=2)
    assert "pw-SECRET-1" not in str(caught.value) and "pw-SECRET-1" not in repr(caught.value.args)
