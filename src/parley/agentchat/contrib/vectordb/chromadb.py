"""Classic module path ``autogen.agentchat.contrib.vectordb.chromadb`` (parley.retrieval.chroma)."""

from ....retrieval.chroma import ChromaVectorDB

__all__ = ["ChromaVectorDB"]
