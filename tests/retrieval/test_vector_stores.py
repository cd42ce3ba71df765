"""The VectorDB protocol on real stores: Chroma (embedded, on disk) and PostgreSQL with pgvector."""

from __future__ import annotations

import uuid

import pytest

from parley.agentchat.contrib.vectordb.base import VectorDB, VectorDBFactory
from parley.retrieval.agents import chunk_id
from parley.retrieval.chroma import ChromaVectorDB
from parley.retrieval.chunking import split_files_to_chunks
from parley.retrieval.documents import get_files_from_dir
from parley.retrieval.pgvector import PGVectorDB


def axis_embedding(texts):
    """A store-independent embedding: each text names the axes it points along ("a", "b", "c")."""
    return [[float(t.count("a")), float(t.count("b")), float(t.count("c")) + 0.01] for t in texts]


@pytest.fixture(params=["chroma", "pgvector"])
def make_db(request, tmp_path):
    def make(embedding_function=axis_embedding):
        if request.param == "chroma":
            return ChromaVectorDB(path=str(tmp_path / "chroma"), embedding_function=embedding_function)
        return PGVectorDB(connection_string=request.getfixturevalue("pgvector_url"), embedding_function=embedding_function)
    return make


def test_collections_create_get_overwrite(make_db):
    db = make_db()
    assert isinstance(db, VectorDB)
    name = f"col-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ValueError, match="does not exist"):
        db.get_collection(name)
    db.create_collection(name)
    db.insert_docs([{"id": "1", "content": "aaa"}], name)
    assert db.get_collection(name).name == name
    with pytest.raises(ValueError, match="already exists"):
        db.create_collection(name, overwrite=False, get_or_create=False)
    db.create_collection(name, get_or_create=True)
    assert [d["id"] for d in db.get_docs_by_ids(None, name)] == ["1"]
    db.create_collection(name, overwrite=True)
    assert db.get_docs_by_ids(None, name) == []
    db.delete_collection(name)
    with pytest.raises(ValueError, match="does not exist"):
        db.get_collection(name)


def test_documents_insert_upsert_update_delete_and_query(make_db):
    db = make_db()
    name = f"docs-{uuid.uuid4().hex[:8]}"
    db.create_collection(name)
    db.insert_docs([{"id": "a", "content": "aaaa", "metadata": {"source": "x.txt"}},
                    {"id": "b", "content": "bbbb"}, {"id": "c", "content": "cccc"}], name)
    with pytest.raises(ValueError, match="already exist"):
        db.insert_docs([{"id": "a", "content": "aaaa"}], name)
    with pytest.raises(ValueError, match=r"docs\[1\]"):
        db.insert_docs([{"id": "z", "content": "ok"}, {"id": "y"}], name)
    [[(first, distance), (second, _), (third, _)]] = db.retrieve_docs(["aaa"], name, n_results=3)
    assert (first["id"], first["content"], first["metadata"]) == ("a", "aaaa", {"source": "x.txt"})
    assert distance == pytest.approx(0.0, abs=1e-3) and {second["id"], third["id"]} == {"b", "c"}
    # distance_threshold: only the near ones; where_document: only those containing the text.
    assert [d["id"] for d, _ in db.retrieve_docs(["aaa"], name, n_results=3, distance_threshold=0.5)[0]] == ["a"]
    assert [d["id"] for d, _ in db.retrieve_docs(["aaa"], name, n_results=3, where_document={"$contains": "cc"})[0]] == ["c"]
    db.insert_docs([{"id": "a", "content": "bbbbbb"}], name, upsert=True)
    assert db.retrieve_docs(["b"], name, n_results=1)[0][0][0]["id"] in {"a", "b"}
    assert db.get_docs_by_ids(["a"], name)[0]["content"] == "bbbbbb"
    db.update_docs([{"id": "c", "content": "aaaa c"}], name)
    assert db.retrieve_docs(["aaaa"], name, n_results=1)[0][0][0]["id"] == "c"
    with pytest.raises(ValueError, match="no documents with ids"):
        db.update_docs([{"id": "nope", "content": "x"}], name)
    db.delete_docs(["b"], name)
    assert sorted(d["id"] for d in db.get_docs_by_ids(None, name)) == ["a", "c"]
    assert [d["id"] for d in db.get_docs_by_ids(["c", "b"], name)] == ["c"]


def test_chroma_and_pgvector_give_the_same_top_results(docs_folder, tmp_path, pgvector_url):
    """The same documents, the offline MiniLM, the same questions: the same nearest chunks in the same order."""
    chunks, sources = split_files_to_chunks(get_files_from_dir(str(docs_folder)), max_tokens=30)
    docs = [{"id": chunk_id(c), "content": c, "metadata": s} for c, s in zip(chunks, sources, strict=True)]
    chroma = ChromaVectorDB(path=str(tmp_path / "chroma"))
    pg = PGVectorDB(connection_string=pgvector_url)
    questions = ["Which port does the build server use?", "What do we feed the bird in the office?",
                 "How long does cleaning the coffee maker take?", "How many times are uploads retried?"]
    answers = []
    for db in (chroma, pg):
        db.create_collection("same-results", overwrite=True)
        db.insert_docs(docs, "same-results")
        answers.append(db.retrieve_docs(questions, "same-results", n_results=3))
    for from_chroma, from_pg in zip(*answers, strict=True):
        assert [d["id"] for d, _ in from_chroma] == [d["id"] for d, _ in from_pg]
        assert [round(x, 4) for _, x in from_chroma] == pytest.approx([round(x, 4) for _, x in from_pg], abs=2e-3)
    top = [result[0][0]["content"] for result in answers[0]]
    assert "7311" in top[0] and "sunflower" in top[1] and "forty minutes" in top[2] and "nine attempts" in top[3]


def test_factory_and_bad_configuration_errors(tmp_path):
    db = VectorDBFactory.create_vector_db("chroma", path=str(tmp_path / "c"))
    assert db.type == "chroma"
    with pytest.raises(ValueError, match="'qdrant' is not supported"):
        VectorDBFactory.create_vector_db("qdrant")
    with pytest.raises(TypeError, match="unknown db_config keys: colour"):
        VectorDBFactory.create_vector_db("chroma", path=str(tmp_path / "c"), colour="red")
    with pytest.raises(ValueError, match="needs conn, connection_string"):
        PGVectorDB()
    with pytest.raises(TypeError, match="embedding_function must be a callable"):
        ChromaVectorDB(path=str(tmp_path / "c"), embedding_function="all-MiniLM-L6-v2")


def test_chromas_own_downloading_embedding_function_is_never_used(tmp_path, monkeypatch):
    from chromadb.utils import embedding_functions

    def refuse(*args, **kwargs):
        raise AssertionError("Chroma's default embedding function (it downloads a model) was used")

    monkeypatch.setattr(embedding_functions.DefaultEmbeddingFunction, "__call__", refuse)
    monkeypatch.setattr(embedding_functions.ONNXMiniLM_L6_V2, "__call__", refuse)
    db = ChromaVectorDB(path=str(tmp_path / "c"))
    db.create_collection("offline")
    db.insert_docs([{"id": "1", "content": "Offline embeddings need no network."}], "offline")
    assert db.retrieve_docs(["no network needed"], "offline", n_results=1)[0][0][0]["id"] == "1"
    reopened = ChromaVectorDB(path=str(tmp_path / "c"))
    assert reopened.retrieve_docs(["offline"], "offline", n_results=1)[0][0][0]["id"] == "1"


def test_classic_retrieve_utils_index_a_folder_and_query_it(docs_folder, tmp_path):
    from parley.agentchat.contrib.vectordb.utils import chroma_results_to_query_results, filter_results_by_distance
    from parley.retrieve_utils import create_vector_db_from_dir, query_vector_db

    db_path = str(tmp_path / "classic")
    client = create_vector_db_from_dir(str(docs_folder), max_tokens=30, db_path=db_path, collection_name="classic-docs")
    assert client.get_collection("classic-docs").count() >= 5
    with pytest.raises(ValueError, match="already exists"):
        create_vector_db_from_dir(str(docs_folder), db_path=db_path, collection_name="classic-docs")
    answer = query_vector_db(["Which port does the build server use?"], n_results=2, db_path=db_path,
                             collection_name="classic-docs")
    assert set(answer) == {"ids", "documents", "metadatas", "distances"}
    assert "7311" in answer["documents"][0][0] and answer["metadatas"][0][0]["source"].endswith("notes.txt")
    assert query_vector_db(["build server"], client=client, collection_name="classic-docs", search_string="parrot",
                           n_results=3)["documents"][0][0].count("parrot") == 1
    results = chroma_results_to_query_results({**answer, "contents": answer.pop("documents")})
    assert results[0][0][0]["content"].count("7311") == 1 and results[0][0][1] == answer["distances"][0][0]
    assert filter_results_by_distance(results, results[0][0][1] + 1e-6) == [[results[0][0]]]
