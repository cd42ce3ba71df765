"""Classic module path ``autogen.agentchat.contrib.vectordb.pgvectordb`` (parley.retrieval.pgvector)."""

from ....retrieval.pgvector import PGVectorDB

__all__ = ["PGVectorDB"]
