"""RetrieveUserProxyAgent against the fake OpenAI server and real stores: what reaches the model."""

from __future__ import annotations

import warnings

import pytest

from parley import AssistantAgent, IOQueue, IOStream
from parley.agentchat.contrib.retrieve_assistant_agent import RetrieveAssistantAgent
from parley.agentchat.contrib.retrieve_user_proxy_agent import PROMPT_QA, RetrieveUserProxyAgent
from parley.events import DocumentsRetrieved, capture

QUESTION = "Which port does the Zephyr build server listen on?"


def _assistant(openai_server, cls=AssistantAgent):
    llm_config = {"config_list": [{"model": "gpt-4", "api_key": "sk-fake", "base_url": openai_server.base_url}], "temperature": 0}
    return cls("assistant", llm_config=llm_config)


def _rag(tmp_path, docs_folder, **config):
    retrieve_config = {"task": "qa", "docs_path": str(docs_folder), "chunk_token_size": 40, "get_or_create": True,
                       "db_config": {"path": str(tmp_path / "chroma")}, **config}
    return RetrieveUserProxyAgent("ragproxy", human_input_mode="NEVER", retrieve_config=retrieve_config)


def _prompt(request: dict) -> str:
    return request["messages"][-1]["content"]


@pytest.mark.parametrize("store", ["chroma", "pgvector"])
def test_the_prompt_holds_the_chunk_with_the_answer(store, openai_server, tmp_path, docs_folder, request):
    config = {}
    if store == "pgvector":
        config = {"vector_db": "pgvector", "db_config": {"connection_string": request.getfixturevalue("pgvector_url")},
                  "collection_name": "answer_chunk", "overwrite": True}
    rag = _rag(tmp_path, docs_folder, **config)
    openai_server.add({"content": "7311"})
    with capture(kinds=(DocumentsRetrieved,)) as seen:
        result = rag.initiate_chat(_assistant(openai_server), message=rag.message_generator, problem=QUESTION, n_results=2)
    assert len(openai_server.requests) == 1
    prompt = _prompt(openai_server.requests[0])
    assert "The Zephyr build server listens on port 7311" in prompt
    assert prompt.startswith(PROMPT_QA.split("{input_question}")[0]) and f"User's question is: {QUESTION}" in prompt
    assert "SCRIPT TEXT" not in prompt
    assert result.chat_history[-1]["content"] == "7311"  # an answer without UPDATE CONTEXT ends the chat
    [event] = seen.events
    assert event.agent == "ragproxy" and event.query == QUESTION
    assert event.results[0]["source"].endswith("notes.txt") and event.results[0]["distance"] < event.results[1]["distance"]
    assert event.used == [r["id"] for r in event.results[:2]]


def test_update_context_sends_the_next_chunks_in_a_fresh_conversation(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder)
    openai_server.add({"content": "UPDATE CONTEXT"}, {"content": "UPDATE CONTEXT"}, {"content": "Captain Pixel"})
    with capture(kinds=(DocumentsRetrieved,)) as seen:
        rag.initiate_chat(_assistant(openai_server), message=rag.message_generator,
                          problem="What is the name of the office parrot?", n_results=1)
    prompts = [_prompt(r) for r in openai_server.requests]
    assert len(prompts) == 3
    # Each request starts a fresh conversation: the system message and the new context only.
    assert [len(r["messages"]) for r in openai_server.requests] == [2, 2, 2]
    used = [e.used for e in seen.events]
    assert all(len(u) == 1 for u in used) and len({u[0] for u in used}) == 3  # three different chunks
    ranked = [r["id"] for r in seen.events[0].results]
    assert [u[0] for u in used] == ranked[:1] + [r["id"] for r in seen.events[2].results[1:3]]
    assert "Captain Pixel" in prompts[0]
    contexts = [p.split("Context is: ", 1)[1] for p in prompts]
    assert len(set(contexts)) == 3


def test_when_every_chunk_was_sent_the_proxy_terminates(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder, chunk_token_size=2000, collection_name="whole-files")  # one chunk a file: 5
    openai_server.default = {"content": "UPDATE CONTEXT"}
    with capture(kinds=(DocumentsRetrieved,)) as seen:
        result = rag.initiate_chat(_assistant(openai_server), message=rag.message_generator, problem=QUESTION, n_results=1)
    assert len(openai_server.requests) == 5
    assert len({e.used[0] for e in seen.events[:5]}) == 5 and seen.events[5].used == []
    assert result.chat_history[-1] == {"content": "TERMINATE", "role": "assistant", "name": "ragproxy"}


def test_a_human_who_types_update_context_sends_the_next_chunk(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder)
    rag.human_input_mode = "ALWAYS"
    openai_server.add({"content": "I am not sure."}, {"content": "Himalaya Kitchen"})
    with IOStream.set_default(IOQueue(["UPDATE CONTEXT", "exit"])) as stream:
        rag.initiate_chat(_assistant(openai_server), message=rag.message_generator,
                          problem="Which restaurant caters the Friday lunches?", n_results=1)
    first, second = (_prompt(r).split("Context is: ", 1)[1] for r in openai_server.requests)
    assert first != second and "UPDATE CONTEXT" not in second.split("\n")[0]
    assert len(stream.prompts) == 2 and "Adding content of doc" in stream.output


def test_the_default_task_names_sources_and_customized_prompts(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder, task="default")
    openai_server.add({"content": "Orchid. Sources: guide.md"})
    rag.initiate_chat(_assistant(openai_server), message=rag.message_generator,
                      problem="What is the signing key that gets rotated before shipping called?", n_results=1)
    prompt = _prompt(openai_server.requests[0])
    assert "Orchid" in prompt and "The source of the context is: [" in prompt and "guide.md" in prompt

    openai_server.reset()
    custom = _rag(tmp_path, docs_folder, customized_prompt="Q: {input_question}\nFACTS:\n{input_context}\nA:")
    openai_server.add({"content": "nine"})
    custom.initiate_chat(_assistant(openai_server), message=custom.message_generator,
                         problem="How many attempts do flaky uploads get?", n_results=1)
    prompt = _prompt(openai_server.requests[0])
    assert prompt.startswith("Q: How many attempts do flaky uploads get?\nFACTS:\n") and "nine attempts" in prompt


def test_an_answer_without_the_customized_prefix_searches_again_with_it(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder, customized_answer_prefix="the answer is")
    openai_server.add({"content": "The coffee machine needs descaling.\nMore text."}, {"content": "The answer is forty minutes."})
    rag.initiate_chat(_assistant(openai_server), message=rag.message_generator,
                      problem="How long does the descaling take?", n_results=1)
    assert len(openai_server.requests) == 2
    assert "forty minutes" in _prompt(openai_server.requests[1])


def test_an_existing_collection_is_used_without_docs_path(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder, collection_name="kept")
    openai_server.add({"content": "7311"}, {"content": "Himalaya Kitchen"})
    rag.initiate_chat(_assistant(openai_server), message=rag.message_generator, problem=QUESTION, n_results=1)
    again = RetrieveUserProxyAgent("again", human_input_mode="NEVER", retrieve_config={
        "task": "qa", "collection_name": "kept", "db_config": {"path": str(tmp_path / "chroma")}})
    again.initiate_chat(_assistant(openai_server), message=again.message_generator, problem="Who caters lunch on Fridays?",
                        n_results=1)
    assert "Himalaya Kitchen" in _prompt(openai_server.requests[1])
    missing = RetrieveUserProxyAgent("missing", human_input_mode="NEVER", retrieve_config={
        "collection_name": "never-made", "db_config": {"path": str(tmp_path / "chroma")}})
    with pytest.raises(ValueError, match="no docs_path and collection 'never-made' does not exist"):
        missing.initiate_chat(_assistant(openai_server), message=missing.message_generator, problem="anything")


def test_classic_client_key_gives_the_chroma_store_its_client(openai_server, tmp_path, docs_folder):
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(tmp_path / "own"), settings=Settings(anonymized_telemetry=False))
    rag = RetrieveUserProxyAgent("ragproxy", human_input_mode="NEVER", retrieve_config={
        "task": "qa", "docs_path": str(docs_folder), "client": client, "collection_name": "classic-client"})
    openai_server.add({"content": "7311"})
    rag.initiate_chat(_assistant(openai_server), message=rag.message_generator, problem=QUESTION, n_results=1)
    assert client.get_collection("classic-client").count() == 5  # one chunk a file at the default chunk size
    assert "port 7311" in _prompt(openai_server.requests[0])


def test_retrieve_assistant_agent_passes_update_context_on(openai_server, tmp_path, docs_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assistant = _assistant(openai_server, RetrieveAssistantAgent)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    rag = _rag(tmp_path, docs_folder)
    rag.initiate_chat(assistant, message="exitcode: 0 (execution succeeded)\nCode output: done", max_turns=1)
    assert assistant.last_message(rag)["content"] == "TERMINATE" and not openai_server.requests


@pytest.mark.parametrize(("config", "error"), [
    ({"tasks": "qa"}, "unknown key.*'tasks'"),
    ({"task": "summarise"}, r"retrieve_config\['task'\] must be one of"),
    ({"chunk_mode": "pages"}, r"retrieve_config\['chunk_mode'\]"),
    ({"embedding_model": "all-mpnet-base-v2"}, r"retrieve_config\['embedding_model'\]"),
    ({"vector_db": "qdrant"}, "'qdrant' is not supported"),
    ({"n_results": 0}, r"retrieve_config\['n_results'\]"),
    ({"embedding_function": "openai"}, r"retrieve_config\['embedding_function'\] must be a callable"),
    ({"db_config": ["path"]}, r"retrieve_config\['db_config'\] must be a dict"),
])
def test_bad_retrieve_config_names_the_key(config, error, tmp_path):
    with pytest.raises((ValueError, TypeError), match=error):
        RetrieveUserProxyAgent("bad", retrieve_config={"db_config": {"path": str(tmp_path / "c")}, **config})
