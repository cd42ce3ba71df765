"""``ChromaVectorDB``: Chroma, embedded and persistent on disk (the default store).

parley embeds texts itself (``embedding_function``, the offline MiniLM by default) and hands Chroma
the vectors; collections are created without a Chroma embedding function, so Chroma's own default
(which downloads a model) is never used. Collections rank by cosine distance. Chroma's anonymous
telemetry is off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .embeddings import resolve_embedding_function
from .vector_db import ActiveCollection, Document, ItemID, QueryResults, check_docs, filter_by_distance


def _clean_metadata(metadata: Mapping[str, Any] | None) -> dict | None:
    # Chroma takes flat str/int/float/bool values and refuses an empty mapping.
    if not metadata:
        return None
    return {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in metadata.items()}


class ChromaVectorDB(ActiveCollection):
    """Classic ``ChromaVectorDB(client=None, path="tmp/db", embedding_function=None, metadata=None)``.

    ``client``: a chromadb client to use; else a persistent one at ``path``. ``metadata``: the
    collection metadata classic passed (its ``hnsw:space`` is honoured; parley's default is cosine).
    """

    type = "chroma"

    def __init__(self, *, client: Any = None, path: str = "tmp/db", embedding_function: Any = None,
                 metadata: dict | None = None, **kwargs: Any) -> None:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError:
            raise ImportError("ChromaVectorDB needs the retrieval extra: pip install 'parley[retrieval]'") from None
        if kwargs:
            raise TypeError(f"ChromaVectorDB got unknown db_config keys: {', '.join(sorted(kwargs))}")
        self._errors = chromadb.errors
        if client is None:
            if not isinstance(path, str) or not path:
                raise ValueError(f"ChromaVectorDB path must be a directory path, got {path!r}")
            client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False, allow_reset=True))
        self.client = client
        self.path = path
        self.embedding_function = resolve_embedding_function(embedding_function)
        space = (metadata or {}).get("hnsw:space", "cosine")
        if space not in ("cosine", "l2", "ip"):
            raise ValueError(f"ChromaVectorDB metadata['hnsw:space'] must be cosine, l2 or ip, got {space!r}")
        self._space = space
        self.active_collection: Any = None

    # ------------------------------------------------------------------ collections

    def create_collection(self, collection_name: str, overwrite: bool = False, get_or_create: bool = True) -> Any:
        """Create it; if it exists: replace it (``overwrite``), return it (``get_or_create``), else ValueError."""
        existing = self._find(collection_name)
        if existing is not None and overwrite:
            self.client.delete_collection(collection_name)
            existing = None
        if existing is not None:
            if not get_or_create:
                raise ValueError(f"collection {collection_name!r} already exists (set get_or_create or overwrite)")
            collection = existing
        else:
            try:
                collection = self.client.create_collection(
                    collection_name, configuration={"hnsw": {"space": self._space}}, embedding_function=None)
            except self._errors.InvalidArgumentError as exc:
                raise ValueError(f"collection_name {collection_name!r}: {exc}") from None
        self.active_collection = collection
        return collection

    def _find(self, collection_name: str) -> Any:
        try:
            return self.client.get_collection(collection_name, embedding_function=None)
        except (self._errors.NotFoundError, ValueError):
            return None

    def delete_collection(self, collection_name: str) -> None:
        if self._find(collection_name) is not None:
            self.client.delete_collection(collection_name)
        if self.active_collection is not None and self.active_collection.name == collection_name:
            self.active_collection = None

    # ------------------------------------------------------------------ documents

    def _vectors(self, docs: list[Document]) -> list:
        missing = [i for i, d in enumerate(docs) if d.get("embedding") is None]
        vectors: list = [d.get("embedding") for d in docs]
        if missing:
            for i, vector in zip(missing, self.embedding_function([docs[i]["content"] for i in missing]), strict=True):
                vectors[i] = list(vector)
        return vectors

    def insert_docs(self, docs: list[Document], collection_name: str | None = None, upsert: bool = False, **kwargs: Any) -> None:
        """Add ``docs`` (embedding those without ``embedding``); an existing id is replaced when ``upsert``, else ValueError."""
        if not docs:
            return
        check_docs(docs)
        collection = self.get_collection(collection_name)
        ids = [str(d["id"]) for d in docs]
        if not upsert:
            clashes = collection.get(ids=ids, include=[])["ids"]
            if clashes:
                raise ValueError(f"documents with ids {clashes[:5]} already exist in {collection.name!r} (use upsert)")
        arguments = {"ids": ids, "documents": [d["content"] for d in docs], "embeddings": self._vectors(docs),
                     "metadatas": [_clean_metadata(d.get("metadata")) for d in docs]}
        # Chroma caps one call's batch size.
        step = self.client.get_max_batch_size() if hasattr(self.client, "get_max_batch_size") else 5000
        for start in range(0, len(ids), step):
            part = {key: values[start:start + step] for key, values in arguments.items()}
            (collection.upsert if upsert else collection.add)(**part)

    def update_docs(self, docs: list[Document], collection_name: str | None = None, **kwargs: Any) -> None:
        """Replace the content (and metadata) of existing documents; an unknown id is a ValueError."""
        if not docs:
            return
        check_docs(docs)
        collection = self.get_collection(collection_name)
        ids = [str(d["id"]) for d in docs]
        found = set(collection.get(ids=ids, include=[])["ids"])
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise ValueError(f"no documents with ids {unknown[:5]} in {collection.name!r}")
        collection.upsert(ids=ids, documents=[d["content"] for d in docs], embeddings=self._vectors(docs),
                          metadatas=[_clean_metadata(d.get("metadata")) for d in docs])

    def delete_docs(self, ids: list[ItemID], collection_name: str | None = None, **kwargs: Any) -> None:
        if ids:
            self.get_collection(collection_name).delete(ids=[str(i) for i in ids])

    def retrieve_docs(self, queries: list[str], collection_name: str | None = None, n_results: int = 10,
                      distance_threshold: float = -1, **kwargs: Any) -> QueryResults:
        """The ``n_results`` nearest documents to each query; ``where_document={"$contains": s}`` filters (classic)."""
        collection = self.get_collection(collection_name)
        if not queries:
            return []
        count = collection.count()
        if count == 0:
            return [[] for _ in queries]
        query: dict[str, Any] = {"query_embeddings": [list(v) for v in self.embedding_function(list(queries))],
                                 "n_results": min(n_results, count), "include": ["documents", "metadatas", "distances"]}
        if kwargs.get("where_document"):
            query["where_document"] = kwargs["where_document"]
        if kwargs.get("where"):
            query["where"] = kwargs["where"]
        answer = collection.query(**query)
        results: QueryResults = []
        for q in range(len(queries)):
            results.append([
                (Document(id=doc_id, content=content, metadata=metadata), float(distance))
                for doc_id, content, metadata, distance in zip(
                    answer["ids"][q], answer["documents"][q], answer["metadatas"][q], answer["distances"][q], strict=True)
            ])
        return filter_by_distance(results, distance_threshold)

    def get_docs_by_ids(self, ids: list[ItemID] | None = None, collection_name: str | None = None, include: Any = None,
                        **kwargs: Any) -> list[Document]:
        """The documents with these ids (all of them when ``ids`` is None), in the store's order."""
        collection = self.get_collection(collection_name)
        include = ["documents", "metadatas"] if include is None else list(include)
        got = collection.get(ids=[str(i) for i in ids] if ids is not None else None, include=include, **kwargs)
        docs: list[Document] = []
        for n, doc_id in enumerate(got["ids"]):
            doc = Document(id=doc_id, content=got["documents"][n] if got.get("documents") is not None else "")
            if got.get("metadatas") is not None:
                doc["metadata"] = got["metadatas"][n]
            if got.get("embeddings") is not None:
                doc["embedding"] = list(got["embeddings"][n])
            docs.append(doc)
        return docs


__all__ = ["ChromaVectorDB"]
