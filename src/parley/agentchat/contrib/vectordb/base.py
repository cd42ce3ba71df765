"""Classic module path ``autogen.agentchat.contrib.vectordb.base`` (parley.retrieval.vector_db)."""

from ....retrieval.vector_db import Document, ItemID, Metadata, QueryResults, Vector, VectorDB
from ....retrieval.vector_db_factory import VectorDBFactory

__all__ = ["Document", "ItemID", "Metadata", "QueryResults", "Vector", "VectorDB", "VectorDBFactory"]
