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

from .agents import RetrieveAssistantAgent, RetrieveUserProxyAgent
from .chroma import ChromaVectorDB
from .chunking import split_files_to_chunks, split_text_to_chunks
from .documents import TEXT_FORMATS, get_file_from_url, get_files_from_dir, is_url, parse_html_to_markdown, read_document
from .embeddings import MiniLMEmbedding, OpenAIEmbedding, default_embedding_function
from .memos import Memo, MemoStore
from .pgvector import PGVectorDB
from .teachability import Teachability
from .vector_db import Document, ItemID, QueryResults, VectorDB, VectorDBFactory

__all__ = [
    "ChromaVectorDB", "Document", "ItemID", "Memo", "MemoStore", "MiniLMEmbedding", "OpenAIEmbedding", "PGVectorDB",
    "QueryResults", "RetrieveAssistantAgent", "RetrieveUserProxyAgent", "TEXT_FORMATS", "Teachability", "VectorDB",
    "VectorDBFactory", "default_embedding_function", "get_file_from_url", "get_files_from_dir", "is_url",
    "parse_html_to_markdown", "read_document", "split_files_to_chunks", "split_text_to_chunks",
]
