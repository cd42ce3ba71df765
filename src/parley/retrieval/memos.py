"""``MemoStore``: what a teachable agent remembers, kept in a vector store (Chroma on disk by default).

A memo is an input-output pair: the text that should recall it (a question, a kind of task) and
what it recalls (the answer, the advice). The input is embedded; the output travels as metadata.
Memos persist across processes at ``path_to_db_dir``; ``parley memos list|show|edit|delete``
and this class's ``memos()``, ``get_memo``, ``edit_memo``, ``delete_memo`` manage them.

Distances are squared Euclidean distances between unit vectors (``2 × cosine distance``, 0 to 4),
the scale classic's Chroma store reported, so classic ``recall_threshold`` values keep their meaning.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..io import get_default as _iostream
from .vector_db import Document, VectorDB

COLLECTION = "memos"
DEFAULT_PATH = "./tmp/teachable_agent_db"


@dataclass(frozen=True, slots=True)
class Memo:
    id: str
    input: str
    output: str
    created: float = 0.0  # Unix time


def _memo(doc: Document) -> Memo:
    metadata = doc.get("metadata") or {}
    return Memo(id=str(doc["id"]), input=doc["content"], output=str(metadata.get("output", "")),
                created=float(metadata.get("created", 0.0)))


class MemoStore:
    """Classic ``MemoStore(verbosity, reset, path_to_db_dir)``; ``vector_db``: another store (e.g. a PGVectorDB)."""

    def __init__(self, verbosity: int = 0, reset: bool = False, path_to_db_dir: str = DEFAULT_PATH, *,
                 vector_db: VectorDB | None = None, collection_name: str = COLLECTION) -> None:
        if vector_db is None:
            if not isinstance(path_to_db_dir, str) or not path_to_db_dir:
                raise ValueError(f"path_to_db_dir must be a directory path, got {path_to_db_dir!r}")
            from .chroma import ChromaVectorDB

            self.vector_db: VectorDB = ChromaVectorDB(path=path_to_db_dir)
        else:
            self.vector_db = vector_db
        self.verbosity = verbosity
        self.path_to_db_dir = path_to_db_dir
        self.collection_name = collection_name
        self.vector_db.create_collection(collection_name, overwrite=bool(reset), get_or_create=True)

    # ------------------------------------------------------------------ the Python API

    def memos(self) -> list[Memo]:
        """Every memo, oldest first."""
        docs = self.vector_db.get_docs_by_ids(None, self.collection_name)
        return sorted((_memo(d) for d in docs), key=lambda m: (m.created, int(m.id) if m.id.isdigit() else 0, m.id))

    def get_memo(self, memo_id: str | int) -> Memo:
        docs = self.vector_db.get_docs_by_ids([str(memo_id)], self.collection_name)
        if not docs:
            raise KeyError(f"no memo with id {memo_id!r}")
        return _memo(docs[0])

    def add_memo(self, input_text: str, output_text: str) -> Memo:
        """Store a memo; its id is the next number."""
        if not isinstance(input_text, str) or not input_text.strip():
            raise ValueError("a memo's input_text must be a non-empty str")
        if not isinstance(output_text, str):
            raise TypeError(f"a memo's output_text must be a str, not {type(output_text).__name__}")
        memo = Memo(id=str(self.last_memo_id + 1), input=input_text, output=output_text, created=time.time())
        self.vector_db.insert_docs([Document(id=memo.id, content=memo.input,
                                             metadata={"output": memo.output, "created": memo.created})],
                                   collection_name=self.collection_name)
        if self.verbosity >= 1:
            _iostream().print(f"\nINPUT-OUTPUT PAIR ADDED TO VECTOR DATABASE:\n  ID\n    {memo.id}\n  INPUT\n    {input_text}"
                              f"\n  OUTPUT\n    {output_text}\n", flush=True)
        return memo

    def edit_memo(self, memo_id: str | int, *, input_text: str | None = None, output_text: str | None = None) -> Memo:
        """Change a memo's input (re-embedded) or output."""
        old = self.get_memo(memo_id)
        memo = Memo(id=old.id, input=old.input if input_text is None else input_text,
                    output=old.output if output_text is None else output_text, created=old.created)
        if not memo.input.strip():
            raise ValueError("a memo's input_text must be a non-empty str")
        self.vector_db.update_docs([Document(id=memo.id, content=memo.input,
                                             metadata={"output": memo.output, "created": memo.created})],
                                   collection_name=self.collection_name)
        return memo

    def delete_memo(self, memo_id: str | int) -> None:
        self.get_memo(memo_id)  # a clear KeyError for an unknown id
        self.vector_db.delete_docs([str(memo_id)], collection_name=self.collection_name)

    def related(self, query_text: str, n_results: int, threshold: float) -> list[tuple[Memo, float]]:
        """Memos nearer than ``threshold`` to ``query_text``, nearest first, with their distances."""
        if not isinstance(n_results, int) or n_results < 1:
            raise ValueError(f"max_num_retrievals (n_results) must be a positive int, got {n_results!r}")
        results = self.vector_db.retrieve_docs([query_text], collection_name=self.collection_name, n_results=n_results)
        pairs = [(_memo(doc), 2.0 * distance) for doc, distance in (results[0] if results else [])]
        return [(memo, distance) for memo, distance in pairs if distance < threshold]

    # ------------------------------------------------------------------ classic's names

    @property
    def last_memo_id(self) -> int:
        ids = [int(d["id"]) for d in self.vector_db.get_docs_by_ids(None, self.collection_name, include=[])
               if str(d["id"]).isdigit()]
        return max(ids, default=0)

    @property
    def uid_text_dict(self) -> dict[str, tuple[str, str]]:
        return {m.id: (m.input, m.output) for m in self.memos()}

    def list_memos(self) -> list[Memo]:
        """Print the memos (classic) and return them."""
        memos = self.memos()
        _iostream().print("LIST OF MEMOS", flush=True)
        for memo in memos:
            _iostream().print(f"  ID: {memo.id}\n    INPUT TEXT: {memo.input}\n    OUTPUT TEXT: {memo.output}", flush=True)
        return memos

    def reset_db(self) -> None:
        """Forget every memo."""
        self.vector_db.create_collection(self.collection_name, overwrite=True, get_or_create=True)

    def add_input_output_pair(self, input_text: str, output_text: str) -> None:
        self.add_memo(input_text, output_text)

    def get_nearest_memo(self, query_text: str) -> tuple[str, str, float] | None:
        found = self.related(query_text, 1, float("inf"))
        if not found:
            return None
        memo, distance = found[0]
        if self.verbosity >= 1:
            _iostream().print(f"\nINPUT-OUTPUT PAIR RETRIEVED FROM VECTOR DATABASE:\n  INPUT1\n    {memo.input}\n  OUTPUT\n"
                              f"    {memo.output}\n  DISTANCE\n    {distance}", flush=True)
        return memo.input, memo.output, distance

    def get_related_memos(self, query_text: str, n_results: int, threshold: int | float) -> list[tuple[str, str, float]]:
        return [(m.input, m.output, d) for m, d in self.related(query_text, n_results, threshold)]

    def prepopulate(self) -> None:
        """A few arbitrary memos (classic's demo helper)."""
        examples = [
            ("When I say papers I mean research papers, which are typically pdfs.", "yes"),
            ("What is the capital of France?", "Paris"),
            ("When writing Python, prefer f-strings for formatting.", "Use f-strings."),
        ]
        for input_text, output_text in examples:
            self.add_memo(input_text, output_text)

    def __repr__(self) -> str:
        where: Any = self.path_to_db_dir if getattr(self.vector_db, "type", "") == "chroma" else self.vector_db
        return f"MemoStore({where!r}, collection={self.collection_name!r})"


__all__ = ["COLLECTION", "DEFAULT_PATH", "Memo", "MemoStore"]
