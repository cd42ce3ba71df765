"""Classic module path ``autogen.retrieve_utils``: the document and Chroma helpers RetrieveChat users import.

Reading, chunking and embedding are parley.retrieval's; ``create_vector_db_from_dir`` and
``query_vector_db`` keep classic's Chroma-client signatures and embed with the offline MiniLM
unless given ``embedding_function``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .retrieval.chunking import RAG_MINIMUM_MESSAGE_LENGTH, VALID_CHUNK_MODES, split_files_to_chunks, split_text_to_chunks
from .retrieval.documents import (
    TEXT_FORMATS,
    UNSTRUCTURED_FORMATS,
    extract_text_from_pdf,
    get_file_from_url,
    get_files_from_dir,
    is_url,
    parse_html_to_markdown,
)
from .retrieval.embeddings import DEFAULT_EMBEDDING_MODEL


def _chroma(client: Any, db_path: str, embedding_model: str, embedding_function: Any) -> Any:
    from .retrieval.chroma import ChromaVectorDB

    if embedding_model != DEFAULT_EMBEDDING_MODEL and embedding_function is None:
        raise ValueError(f"embedding_model: only {DEFAULT_EMBEDDING_MODEL!r} ships offline; pass embedding_function for another")
    return ChromaVectorDB(client=client, path=db_path, embedding_function=embedding_function)


def create_vector_db_from_dir(
    dir_path: str | list[str],
    max_tokens: int = 4000,
    client: Any = None,
    db_path: str = "tmp/chromadb.db",
    collection_name: str = "all-my-documents",
    get_or_create: bool = False,
    chunk_mode: str = "multi_lines",
    must_break_at_empty_line: bool = True,
    embedding_model: str = DEFAULT_EMBEDDING_MODEL,
    embedding_function: Callable | None = None,
    custom_text_split_function: Callable | None = None,
    custom_text_types: list[str] = TEXT_FORMATS,
    recursive: bool = True,
    extra_docs: bool = False,
) -> Any:
    """Index the documents of ``dir_path`` into Chroma collection ``collection_name``; returns the chromadb client."""
    from .retrieval.agents import chunk_id
    from .retrieval.vector_db import Document

    db = _chroma(client, db_path, embedding_model, embedding_function)
    db.create_collection(collection_name, overwrite=False, get_or_create=get_or_create)
    files = get_files_from_dir(dir_path, custom_text_types, recursive)
    if custom_text_split_function is not None:
        chunks, sources = split_files_to_chunks(files, custom_text_split_function=custom_text_split_function)
    else:
        chunks, sources = split_files_to_chunks(files, max_tokens, chunk_mode, must_break_at_empty_line)
    docs = {chunk_id(c): Document(id=chunk_id(c), content=c, metadata=s) for c, s in zip(chunks, sources, strict=True)}
    db.insert_docs(list(docs.values()), collection_name, upsert=True)
    return db.client


def query_vector_db(
    query_texts: list[str],
    n_results: int = 10,
    client: Any = None,
    db_path: str = "tmp/chromadb.db",
    collection_name: str = "all-my-documents",
    search_string: str = "",
    embedding_model: str = DEFAULT_EMBEDDING_MODEL,
    embedding_function: Callable | None = None,
) -> dict[str, list]:
    """Chroma's answer shape: ``{"ids", "documents", "metadatas", "distances"}``, one list per query."""
    db = _chroma(client, db_path, embedding_model, embedding_function)
    kwargs = {"where_document": {"$contains": search_string}} if search_string else {}
    results = db.retrieve_docs(query_texts, collection_name, n_results, **kwargs)
    return {
        "ids": [[doc["id"] for doc, _ in result] for result in results],
        "documents": [[doc["content"] for doc, _ in result] for result in results],
        "metadatas": [[doc.get("metadata") for doc, _ in result] for result in results],
        "distances": [[distance for _, distance in result] for result in results],
    }


__all__ = [
    "RAG_MINIMUM_MESSAGE_LENGTH", "TEXT_FORMATS", "UNSTRUCTURED_FORMATS", "VALID_CHUNK_MODES", "create_vector_db_from_dir",
    "extract_text_from_pdf", "get_file_from_url", "get_files_from_dir", "is_url", "parse_html_to_markdown",
    "query_vector_db", "split_files_to_chunks", "split_text_to_chunks",
]
