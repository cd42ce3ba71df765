"""Classic module path ``autogen.agentchat.contrib.vectordb.utils``: converting Chroma's answers and filtering by distance."""

from __future__ import annotations

import logging
from typing import Any

from ....retrieval.vector_db import Document, QueryResults
from ....retrieval.vector_db import filter_by_distance as filter_results_by_distance


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


def chroma_results_to_query_results(data_dict: dict[str, Any], special_key: str = "distances") -> QueryResults:
    """Chroma's column-wise answer (``ids``, ``contents``/``documents``, ``metadatas``, ``distances``, one list per
    query) as ``QueryResults``: per query, ``(document, distance)`` pairs."""
    keys = [k for k in data_dict if k != special_key and data_dict[k] is not None and isinstance(data_dict[k], list)]
    results: QueryResults = []
    for q, distances in enumerate(data_dict[special_key]):
        pairs = []
        for i, distance in enumerate(distances):
            doc: dict[str, Any] = {}
            for key in keys:
                if q < len(data_dict[key]) and isinstance(data_dict[key][q], list) and i < len(data_dict[key][q]):
                    doc[{"ids": "id", "documents": "content", "contents": "content", "metadatas": "metadata",
                         "embeddings": "embedding"}.get(key, key)] = data_dict[key][q][i]
            pairs.append((Document(**doc), distance))  # type: ignore[typeddict-item]
        results.append(pairs)
    return results


__all__ = ["chroma_results_to_query_results", "filter_results_by_distance", "get_logger"]
