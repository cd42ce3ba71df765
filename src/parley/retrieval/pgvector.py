"""``PGVectorDB``: PostgreSQL with the pgvector extension, through psycopg 3.

A collection is a table (``id`` text key, ``content``, ``metadata`` jsonb, ``embedding vector(n)``)
with an HNSW index for its distance. Distances are reported as Chroma reports them, so the two
stores' answers compare: cosine ``1 - cos`` (the default), ``l2`` squared Euclidean, ``ip`` ``1 - a·b``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from ..models.secrets import MASK, redact, secrets_in_url
from .embeddings import resolve_embedding_function
from .vector_db import ActiveCollection, Document, ItemID, QueryResults, check_docs, filter_by_distance

# space: (operator class, order-by operator, SQL turning the operator's value into Chroma's distance)
_SPACES = {
    "cosine": ("vector_cosine_ops", "<=>", "{d}"),
    "l2": ("vector_l2_ops", "<->", "({d}) * ({d})"),
    "ip": ("vector_ip_ops", "<#>", "1 + ({d})"),
}


class _Collection:
    """A table that holds one collection (what ``create_collection`` / ``get_collection`` return)."""

    def __init__(self, name: str, dimension: int) -> None:
        self.name = name
        self.dimension = dimension

    def __repr__(self) -> str:
        return f"PGVectorCollection({self.name!r}, dimension={self.dimension})"


# A password in a key=value connection string: ``password=...`` or ``password='...'``.
_DSN_PASSWORD = re.compile(r"password\s*=\s*'?([^'\s]+)")


def _connect(psycopg: Any, url: str, connect_timeout: int, password: str | None) -> Any:
    """A connection to ``url``; its error without the password, which psycopg's message may
    repeat (a malformed URI is quoted whole)."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout)
    except psycopg.Error as error:
        secrets = [*secrets_in_url(url), password, *_DSN_PASSWORD.findall(url)]
        message = redact(str(error), secrets)
        for secret in secrets:  # shorter ones too (redact masks only secret-sized values)
            if secret and len(secret) >= 4:
                message = message.replace(secret, MASK)
        raise type(error)(message) from None


class PGVectorDB(ActiveCollection):
    """Classic ``PGVectorDB(connection_string=None, host=None, port=None, dbname=None, username=None,
    password=None, connect_timeout=10, embedding_function=None, metadata=None, ...)``; or ``conn``, an
    open psycopg connection. ``connection_string`` may be a SQLAlchemy URL (``postgresql+psycopg://``).
    """

    type = "pgvector"

    def __init__(self, *, conn: Any = None, connection_string: str | None = None, host: str | None = None,
                 port: int | str | None = None, dbname: str | None = None, username: str | None = None,
                 password: str | None = None, connect_timeout: int = 10, embedding_function: Any = None,
                 metadata: dict | None = None, model_name: str | None = None) -> None:
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError:
            raise ImportError("PGVectorDB needs psycopg and pgvector: pip install 'parley[retrieval,postgres]'") from None
        self._sql = psycopg.sql
        if conn is None:
            if connection_string:
                url = connection_string.replace("postgresql+psycopg://", "postgresql://", 1)
                conn = _connect(psycopg, url, connect_timeout, password)
            elif host or dbname:
                auth = f"{quote(username or 'postgres')}{':' + quote(password) if password else ''}@"
                url = f"postgresql://{auth}{host or 'localhost'}:{port or 5432}/{dbname or 'postgres'}"
                conn = _connect(psycopg, url, connect_timeout, password)
            else:
                raise ValueError("PGVectorDB needs conn, connection_string, or host/port/dbname/username/password")
        elif not conn.autocommit:
            conn.autocommit = True
        self.client = conn
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        self.embedding_function = resolve_embedding_function(embedding_function)
        space = (metadata or {}).get("hnsw:space", "cosine")
        if space not in _SPACES:
            raise ValueError(f"PGVectorDB metadata['hnsw:space'] must be one of {', '.join(_SPACES)}, got {space!r}")
        self._space = space
        self.active_collection: Any = None

    # ------------------------------------------------------------------ collections

    def _table(self, name: str) -> Any:
        return self._sql.Identifier(name)

    def _find(self, name: str) -> _Collection | None:
        with self.client.cursor() as cur:
            cur.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
                        (self._sql.Identifier(name).as_string(self.client),))
            row = cur.fetchone()
        return _Collection(name, row[0]) if row else None

    def create_collection(self, collection_name: str, overwrite: bool = False, get_or_create: bool = True) -> _Collection:
        """Create it; if it exists: replace it (``overwrite``), return it (``get_or_create``), else ValueError."""
        if not isinstance(collection_name, str) or not collection_name or len(collection_name) > 63:
            raise ValueError(f"collection_name must be a str of 1-63 characters (a table name), got {collection_name!r}")
        existing = self._find(collection_name)
        if existing is not None and overwrite:
            self.delete_collection(collection_name)
            existing = None
        if existing is not None:
            if not get_or_create:
                raise ValueError(f"collection {collection_name!r} already exists (set get_or_create or overwrite)")
            self.active_collection = existing
            return existing
        dimension = len(self.embedding_function(["dimension"])[0])
        opclass = _SPACES[self._space][0]
        sql = self._sql
        with self.client.cursor() as cur:
            cur.execute(sql.SQL("CREATE TABLE {} (id text PRIMARY KEY, content text NOT NULL, metadata jsonb, "
                                "embedding vector({}) NOT NULL)").format(self._table(collection_name), sql.Literal(dimension)))
            cur.execute(sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding {})").format(
                sql.Identifier(f"{collection_name[:50]}_hnsw"), self._table(collection_name), sql.SQL(opclass)))
        self.active_collection = _Collection(collection_name, dimension)
        return self.active_collection

    def delete_collection(self, collection_name: str) -> None:
        with self.client.cursor() as cur:
            cur.execute(self._sql.SQL("DROP TABLE IF EXISTS {}").format(self._table(collection_name)))
        if self.active_collection is not None and self.active_collection.name == collection_name:
            self.active_collection = None

    # ------------------------------------------------------------------ documents

    def _rows(self, docs: list[Document]) -> list[tuple]:
        import numpy as np

        missing = [i for i, d in enumerate(docs) if d.get("embedding") is None]
        vectors: list = [d.get("embedding") for d in docs]
        if missing:
            for i, vector in zip(missing, self.embedding_function([docs[i]["content"] for i in missing]), strict=True):
                vectors[i] = vector
        return [(str(d["id"]), d["content"], json.dumps(dict(d.get("metadata") or {})) if d.get("metadata") else None,
                 np.asarray(v, dtype=np.float32)) for d, v in zip(docs, vectors, strict=True)]

    def insert_docs(self, docs: list[Document], collection_name: str | None = None, upsert: bool = False, **kwargs: Any) -> None:
        """Add ``docs`` (embedding those without ``embedding``); an existing id is replaced when ``upsert``, else ValueError."""
        if not docs:
            return
        check_docs(docs)
        collection = self.get_collection(collection_name)
        sql = self._sql
        statement = sql.SQL("INSERT INTO {} (id, content, metadata, embedding) VALUES (%s, %s, %s, %s)").format(
            self._table(collection.name))
        if upsert:
            statement += sql.SQL(" ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content, "
                                 "metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding")
        import psycopg

        try:
            with self.client.transaction(), self.client.cursor() as cur:
                cur.executemany(statement, self._rows(docs))
        except psycopg.errors.UniqueViolation as exc:
            raise ValueError(f"a document id already exists in {collection.name!r} (use upsert): "
                             f"{exc.diag.message_detail}") from None

    def update_docs(self, docs: list[Document], collection_name: str | None = None, **kwargs: Any) -> None:
        """Replace the content (and metadata) of existing documents; an unknown id is a ValueError."""
        if not docs:
            return
        check_docs(docs)
        collection = self.get_collection(collection_name)
        known = {d["id"] for d in self.get_docs_by_ids([d["id"] for d in docs], collection.name, include=[])}
        unknown = [str(d["id"]) for d in docs if str(d["id"]) not in known]
        if unknown:
            raise ValueError(f"no documents with ids {unknown[:5]} in {collection.name!r}")
        self.insert_docs(docs, collection.name, upsert=True)

    def delete_docs(self, ids: list[ItemID], collection_name: str | None = None, **kwargs: Any) -> None:
        if not ids:
            return
        collection = self.get_collection(collection_name)
        with self.client.cursor() as cur:
            cur.execute(self._sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(self._table(collection.name)),
                        ([str(i) for i in ids],))

    def retrieve_docs(self, queries: list[str], collection_name: str | None = None, n_results: int = 10,
                      distance_threshold: float = -1, **kwargs: Any) -> QueryResults:
        """The ``n_results`` nearest documents to each query; ``where_document={"$contains": s}`` filters (as Chroma's)."""
        import numpy as np

        collection = self.get_collection(collection_name)
        if not queries:
            return []
        _, operator, distance_sql = _SPACES[self._space]
        sql = self._sql
        raw = sql.SQL("embedding {} %(q)s").format(sql.SQL(operator))
        distance = sql.SQL(distance_sql.replace("{d}", "{raw}")).format(raw=raw)
        where = sql.SQL("")
        params: dict[str, Any] = {"n": n_results}
        contains = (kwargs.get("where_document") or {}).get("$contains")
        if contains:
            where = sql.SQL("WHERE strpos(content, %(contains)s) > 0")
            params["contains"] = contains
        statement = sql.SQL("SELECT id, content, metadata, {} FROM {} {} ORDER BY {} LIMIT %(n)s").format(
            distance, self._table(collection.name), where, raw)
        results: QueryResults = []
        with self.client.cursor() as cur:
            for vector in self.embedding_function(list(queries)):
                cur.execute(statement, {**params, "q": np.asarray(vector, dtype=np.float32)})
                results.append([(Document(id=row[0], content=row[1], metadata=row[2]), float(row[3])) for row in cur.fetchall()])
        return filter_by_distance(results, distance_threshold)

    def get_docs_by_ids(self, ids: list[ItemID] | None = None, collection_name: str | None = None, include: Any = None,
                        **kwargs: Any) -> list[Document]:
        """The documents with these ids (all of them when ``ids`` is None)."""
        collection = self.get_collection(collection_name)
        include = ["documents", "metadatas"] if include is None else list(include)
        sql = self._sql
        statement = sql.SQL("SELECT id, content, metadata, embedding FROM {}").format(self._table(collection.name))
        params: tuple = ()
        if ids is not None:
            statement += sql.SQL(" WHERE id = ANY(%s)")
            params = ([str(i) for i in ids],)
        with self.client.cursor() as cur:
            cur.execute(statement + sql.SQL(" ORDER BY id"), params)
            rows = cur.fetchall()
        docs: list[Document] = []
        for row in rows:
            doc = Document(id=row[0], content=row[1] if "documents" in include else "")
            if "metadatas" in include:
                doc["metadata"] = row[2]
            if "embeddings" in include:
                doc["embedding"] = [float(x) for x in row[3]]
            docs.append(doc)
        return docs


__all__ = ["PGVectorDB"]
