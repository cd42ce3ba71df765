"""Retrieval: documents into chunks, chunks into vectors, vectors into a store, and back.

- ``documents``: files, folders, glob patterns and URLs; text, Markdown, HTML, PDF, code.
- ``chunking``: classic's chunk modes, token-sized.
- ``embeddings``: the offline MiniLM (default), OpenAI-compatible ``/embeddings``, or any callable.
- ``vector_db``: the classic ``VectorDB`` protocol; ``chroma`` (embedded, the default) and
  ``pgvector`` (PostgreSQL) stores behind it.
- ``agents``: ``RetrieveUserProxyAgent`` / ``RetrieveAssistantAgent``; ``teachability`` and
  ``memos``: agents that remember what they are taught.

The classic module paths (``parley.retrieve_utils``, ``parley.agentchat.contrib.retrieve_user_proxy_agent``,
``...contrib.vectordb``, ``...contrib.capabilities.teachability``) re-export these. Heavy
libraries (chromadb, onnxruntime, psycopg, pypdf) load on first use.
"""

import importlib
from typing import Any

# Each name and the module that defines it, imported on first use: ``parley memos --help`` and the
# classic re-export modules load only what they name.
_WHERE = {
    "RetrieveAssistantAgent": "agents", "RetrieveUserProxyAgent": "agents", "ChromaVectorDB": "chroma",
    "split_files_to_chunks": "chunking", "split_text_to_chunks": "chunking", "TEXT_FORMATS": "documents",
    "get_file_from_url": "documents", "get_files_from_dir": "documents", "is_url": "documents",
    "parse_html_to_markdown": "documents", "read_document": "documents", "MiniLMEmbedding": "embeddings",
    "OpenAIEmbedding": "embeddings", "default_embedding_function": "embeddings", "Memo": "memos",
    "MemoStore": "memos", "PGVectorDB": "pgvector", "Teachability": "teachability", "Document": "vector_db",
    "ItemID": "vector_db", "QueryResults": "vector_db", "VectorDB": "vector_db", "VectorDBFactory": "vector_db_factory",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ChromaVectorDB", "Document", "ItemID", "Memo", "MemoStore", "MiniLMEmbedding", "OpenAIEmbedding", "PGVectorDB",
    "QueryResults", "RetrieveAssistantAgent", "RetrieveUserProxyAgent", "TEXT_FORMATS", "Teachability", "VectorDB",
    "VectorDBFactory", "default_embedding_function", "get_file_from_url", "get_files_from_dir", "is_url",
    "parse_html_to_markdown", "read_document", "split_files_to_chunks", "split_text_to_chunks",
]
