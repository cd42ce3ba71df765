"""The classic ``VectorDB`` protocol (``autogen.agentchat.contrib.vectordb.base``) and its factory.

A store keeps documents (``id``, ``content``, ``metadata``, ``embedding``) in named collections and
answers queries with ``QueryResults``: per query, a list of ``(document, distance)`` pairs, nearest
first. parley's stores rank by cosine distance (``1 - cos``, 0 = same direction) and embed with
their ``embedding_function`` (the offline MiniLM unless given another).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypedDict, runtime_checkable

Metadata = Mapping[str, Any] | None
Vector = Sequence[float] | Sequence[int]
ItemID = str | int


class _DocumentRequired(TypedDict):
    id: ItemID
    content: str


class Document(_DocumentRequired, total=False):
    """A record in a vector store: ``id`` and ``content`` required; ``metadata`` (e.g. ``source``), ``embedding`` optional."""

    metadata: Metadata
    embedding: Vector | None


QueryResults = list[list[tuple[Document, float]]]


@runtime_checkable
class VectorDB(Protocol):
    """What a vector store offers the retrieve agents and teachability (classic's method names and parameters)."""

    active_collection: Any
    type: str
    embedding_function: Any  # texts -> vectors (classic: Callable[[list[str]], list[list[float]]])

    def create_collection(self, collection_name: str, overwrite: bool = False, get_or_create: bool = True) -> Any: ...

    def get_collection(self, collection_name: str | None = None) -> Any: ...

    def delete_collection(self, collection_name: str) -> Any: ...

    def insert_docs(self, docs: list[Document], collection_name: str | None = None, upsert: bool = False,
                    **kwargs: Any) -> None: ...

    def update_docs(self, docs: list[Document], collection_name: str | None = None, **kwargs: Any) -> None: ...

    def delete_docs(self, ids: list[ItemID], collection_name: str | None = None, **kwargs: Any) -> None: ...

    def retrieve_docs(self, queries: list[str], collection_name: str | None = None, n_results: int = 10,
                      distance_threshold: float = -1, **kwargs: Any) -> QueryResults: ...

    def get_docs_by_ids(self, ids: list[ItemID] | None = None, collection_name: str | None = None, include: Any = None,
                        **kwargs: Any) -> list[Document]: ...


class ActiveCollection:
    """Classic's ``get_collection``, shared by the stores: the named collection becomes the active one;
    no name gives the active one. A store supplies ``_find(name)`` (None: no such collection)."""

    active_collection: Any = None

    def _find(self, collection_name: str) -> Any:
        raise NotImplementedError

    def get_collection(self, collection_name: str | None = None) -> Any:
        if collection_name is None:
            if self.active_collection is None:
                raise ValueError("no collection_name given and no active collection")
            return self.active_collection
        if self.active_collection is not None and self.active_collection.name == collection_name:
            return self.active_collection
        collection = self._find(collection_name)
        if collection is None:
            raise ValueError(f"collection {collection_name!r} does not exist")
        self.active_collection = collection
        return collection


def check_docs(docs: Sequence[Document]) -> None:
    """Raise a clear error for a malformed document (names the index and field)."""
    seen: set = set()
    for i, doc in enumerate(docs):
        if not isinstance(doc, Mapping):
            raise TypeError(f"docs[{i}] must be a Document dict, not {type(doc).__name__}")
        if doc.get("id") is None:
            raise ValueError(f"docs[{i}] has no 'id'")
        if not isinstance(doc.get("content"), str):
            raise ValueError(f"docs[{i}] (id {doc['id']!r}) needs a str 'content'")
        if doc["id"] in seen:
            raise ValueError(f"docs[{i}]: id {doc['id']!r} appears twice")
        seen.add(doc["id"])


def filter_by_distance(results: QueryResults, distance_threshold: float = -1) -> QueryResults:
    """Keep the pairs whose distance is below ``distance_threshold`` (a negative threshold keeps all)."""
    if distance_threshold is None or distance_threshold < 0:
        return results
    return [[pair for pair in result if pair[1] < distance_threshold] for result in results]


__all__ = ["ActiveCollection", "Document", "ItemID", "Metadata", "QueryResults", "Vector", "VectorDB",
           "check_docs", "filter_by_distance"]
