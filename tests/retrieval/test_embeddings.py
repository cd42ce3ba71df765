"""Embedding functions: the offline MiniLM (default), an OpenAI-compatible /embeddings endpoint, a user function."""

from __future__ import annotations

import math
import re

import pytest

from parley.retrieval.chroma import ChromaVectorDB
from parley.retrieval.embeddings import MiniLMEmbedding, OpenAIEmbedding, default_embedding_function
from tests.servers.openai_fake import word_hash_vector

# Each question is a paraphrase of one fact: few words in common with it.
FACTS_AND_PARAPHRASES = [
    ("The cafeteria closes at three in the afternoon on weekdays.", "When does the canteen shut during the working week?"),
    ("Employees may work remotely up to two days per week.", "How often am I allowed to do my job from home?"),
    ("Lost badges must be reported to the security desk immediately.", "I misplaced my ID card, who should I tell?"),
    ("The parking garage is reserved for visitors before 9 am.", "Can guests leave their cars in the lot early in the morning?"),
    ("Expense claims are reimbursed within thirty days of approval.", "How long until I get my money back for costs I paid?"),
    ("The fire alarm is tested every Monday at 10 am.", "On which weekday do they check the smoke warning siren?"),
    ("New laptops are issued by the IT helpdesk on the ground floor.", "Where do I pick up a fresh computer?"),
    ("Annual leave requests need manager sign-off two weeks ahead.", "How early should I ask my boss before a vacation?"),
    ("The gym in the basement is open around the clock.", "Is the fitness room accessible at midnight?"),
    ("Printer paper is stocked in the supply closet next to room 204.", "Where can I find sheets for the copier?"),
    ("The quarterly town hall meeting is streamed online.", "Can I watch the company-wide gathering over the internet?"),
    ("Bicycles should be locked in the racks by the north entrance.", "Where do I park my bike?"),
]
DISTRACTORS = [
    "The company was founded in 1998 by two engineers.", "Our logo is a blue triangle inside a circle.",
    "The marketing team sits on the fourth floor.", "Quarterly revenue grew by six percent.",
    "The cafeteria menu changes every season.", "Security audits happen twice a year.",
    "The main conference room seats forty people.", "Software licenses are renewed in January.",
    "Weekly newsletters are sent on Thursdays.", "The north entrance has a wheelchair ramp.",
    "Visitors must sign the guest book.", "The ground floor hosts the reception desk.",
]
_STOP = {"the", "a", "an", "is", "are", "in", "on", "at", "to", "of", "by", "for", "i", "my", "do", "does", "can", "be",
         "should", "who", "when", "where", "how", "which", "what", "before", "up", "per", "must", "their", "next"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def _recall_at_5(rank) -> float:
    corpus = [fact for fact, _ in FACTS_AND_PARAPHRASES] + DISTRACTORS
    hits = sum(fact in rank(question, corpus)[:5] for fact, question in FACTS_AND_PARAPHRASES)
    return hits / len(FACTS_AND_PARAPHRASES)


def test_minilm_beats_keyword_overlap_on_paraphrased_questions(tmp_path):
    def keyword_rank(question, corpus):
        q = _words(question)
        return sorted(corpus, key=lambda doc: -len(q & _words(doc)) / (len(q | _words(doc)) or 1))

    db = ChromaVectorDB(path=str(tmp_path / "recall"))  # the default: the offline MiniLM
    db.create_collection("recall")
    corpus = [fact for fact, _ in FACTS_AND_PARAPHRASES] + DISTRACTORS
    db.insert_docs([{"id": str(i), "content": doc} for i, doc in enumerate(corpus)], "recall")

    def embedding_rank(question, corpus):
        return [doc["content"] for doc, _ in db.retrieve_docs([question], "recall", n_results=len(corpus))[0]]

    keyword, embedded = _recall_at_5(keyword_rank), _recall_at_5(embedding_rank)
    assert embedded >= 0.9, embedded
    assert embedded > keyword, (embedded, keyword)


def test_minilm_vectors_are_unit_length_batched_and_stable():
    model = default_embedding_function()
    assert model is default_embedding_function()  # one per process
    texts = ["short", "a somewhat longer sentence about embeddings " * 3, "x" * 3000]
    vectors = model(texts)
    assert len(vectors) == 3 and all(len(v) == 384 for v in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4) for v in vectors)
    alone = MiniLMEmbedding(threads=1)(["short"])[0]  # padding in a batch does not change a text's vector
    assert sum(a * b for a, b in zip(alone, vectors[0], strict=True)) > 0.999
    with pytest.raises(TypeError, match=r"input\[1\]"):
        model(["ok", 3])


def test_openai_compatible_embeddings_endpoint(openai_server, tmp_path):
    config = {"config_list": [{"model": "text-embedding-3-small", "api_key": "sk-test", "base_url": openai_server.base_url}]}
    embed = OpenAIEmbedding(config, batch_size=2)
    vectors = embed(["red apple", "green apple", "blue sky"])
    assert [r["input"] for r in openai_server.embedding_requests] == [["red apple", "green apple"], ["blue sky"]]
    assert openai_server.embedding_requests[0]["model"] == "text-embedding-3-small"
    expected = word_hash_vector("red apple")
    norm = math.sqrt(sum(x * x for x in expected))
    assert vectors[0] == pytest.approx([x / norm for x in expected])
    db = ChromaVectorDB(path=str(tmp_path / "remote"), embedding_function=embed)
    db.create_collection("remote")
    db.insert_docs([{"id": "1", "content": "apple pie recipe"}, {"id": "2", "content": "weather report"}], "remote")
    assert db.retrieve_docs(["apple"], "remote", n_results=1)[0][0][0]["id"] == "1"
    with pytest.raises(ValueError, match="needs a model"):
        OpenAIEmbedding({"api_key": "x"})


def test_a_user_function_embeds_documents_and_queries(tmp_path):
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return [[1.0, 0.0] if "cat" in t else [0.0, 1.0] for t in texts]

    db = ChromaVectorDB(path=str(tmp_path / "user"), embedding_function=embed)
    db.create_collection("user")
    db.insert_docs([{"id": "c", "content": "a cat"}, {"id": "d", "content": "a dog"}], "user")
    assert db.retrieve_docs(["cat food"], "user", n_results=1)[0][0][0]["id"] == "c"
    assert calls == [["a cat", "a dog"], ["cat food"]]
