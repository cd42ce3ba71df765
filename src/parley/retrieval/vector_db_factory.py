"""Classic's ``VectorDBFactory``: a vector store by name. The stores are imported only when named
(chromadb and psycopg are heavy and optional)."""

from __future__ import annotations

from typing import Any, ClassVar

from .vector_db import VectorDB


class VectorDBFactory:
    """``create_vector_db("chroma" | "pgvector", **db_config)`` (classic)."""

    PREDEFINED_VECTOR_DB: ClassVar[list[str]] = ["chroma", "pgvector"]

    @staticmethod
    def create_vector_db(db_type: str, **kwargs: Any) -> VectorDB:
        if db_type.lower() in ("chroma", "chromadb"):
            from .chroma import ChromaVectorDB

            return ChromaVectorDB(**kwargs)
        if db_type.lower() in ("pgvector", "pgvectordb"):
            from .pgvector import PGVectorDB

            return PGVectorDB(**kwargs)
        raise ValueError(f"vector_db {db_type!r} is not supported: use one of {', '.join(VectorDBFactory.PREDEFINED_VECTOR_DB)}, "
                         "or pass an object that follows the VectorDB protocol")


__all__ = ["VectorDBFactory"]
