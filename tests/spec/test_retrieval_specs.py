"""Retrieval and multimodal agents in a spec: RetrieveUserProxyAgent (its retrieve_config as data:
paths under the run's folder, functions by import path from allowed modules),
RetrieveAssistantAgent and MultimodalConversableAgent; loading and validating read nothing."""

from __future__ import annotations

import copy

import pytest

from parley.events import DocumentsRetrieved, capture
from parley.spec import SpecError, Team
from parley.spec.access import outside_work_dirs

QUESTION = "Which port does the staging server listen on?"


def rag_document(**retrieve_config) -> dict:
    config = {"task": "qa", "docs_path": "docs", "db_config": {"path": "index"}, "collection_name": "notes",
              "get_or_create": True, **retrieve_config}
    return copy.deepcopy({
        "version": 1,
        "agents": {
            "ragproxy": {"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                         "retrieve_config": config},
            "assistant": {"class": "RetrieveAssistantAgent"},
            "viewer": {"class": "MultimodalConversableAgent", "llm_config": False},
        },
        "run": {"initiator": "ragproxy", "recipient": "assistant", "task": QUESTION, "max_turns": 1},
    })


@pytest.fixture
def run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("The staging server listens on port 7311.\n\nThe parrot is Captain Pixel.\n")
    return tmp_path


def issues(document: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as error:
        Team.from_dict(document)
    return {issue.path: issue.message for issue in error.value.issues}


def test_the_classes_load_validate_and_write_back(run_folder):
    team = Team.from_dict(rag_document())
    assert [a.class_ for a in team.spec.agents.values()] == [
        "RetrieveUserProxyAgent", "RetrieveAssistantAgent", "MultimodalConversableAgent"]
    assert not team.validate().refused
    assert Team.from_yaml(team.to_yaml()).to_dict() == team.to_dict()
    assert not (run_folder / "index").exists()  # loading and validating index nothing


def test_a_built_team_retrieves_from_its_docs_when_it_runs(run_folder):
    from parley.agentchat.contrib.multimodal_conversable_agent import MultimodalConversableAgent
    from parley.retrieval.agents import RetrieveAssistantAgent, RetrieveUserProxyAgent

    team = Team.from_dict(rag_document())
    with pytest.warns(DeprecationWarning):
        built = team.build(model="scripted")
    assert [type(a) for a in built.agents.values()] == [RetrieveUserProxyAgent, RetrieveAssistantAgent,
                                                        MultimodalConversableAgent]
    with pytest.raises(ValueError):  # the build opens the store; the documents are read at the first retrieval
        built.agents["ragproxy"]._vector_db.get_collection("notes")
    with capture(kinds=(DocumentsRetrieved,)) as seen:
        result = team.run(model="scripted", silent=True, built=built)
    [retrieval] = seen.events
    assert retrieval.agent == "ragproxy" and retrieval.query == QUESTION and retrieval.collection == "notes"
    assert retrieval.results[0]["source"] == "docs/notes.txt" and retrieval.used == [retrieval.results[0]["id"]]
    assert "port 7311" in result.chat_history[0]["content"]
    assert (run_folder / "index").is_dir()


@pytest.mark.parametrize(("change", "path", "needle"), [
    ({"task": "poem"}, "agents.ragproxy.retrieve_config.task", "'code', 'qa' or 'default'"),
    ({"chunk_token_size": 0}, "agents.ragproxy.retrieve_config.chunk_token_size", "integer ≥ 1"),
    ({"vector_db": "pgvector"}, "agents.ragproxy.retrieve_config.vector_db", "'chroma'"),
    ({"client": "anything"}, "agents.ragproxy.retrieve_config", "unknown key 'client'"),
    ({"db_config": {"connection_string": "postgresql://u:p@h/db"}},
     "agents.ragproxy.retrieve_config.db_config", "unknown key 'connection_string'"),
    ({"embedding_function": "os.system"}, "agents.ragproxy.retrieve_config.embedding_function", "import path"),
    ({"custom_text_split_function": {"code": "x"}}, "agents.ragproxy.retrieve_config.custom_text_split_function",
     "import path"),
    ({"docs_path": []}, "agents.ragproxy.retrieve_config.docs_path", "at least one"),
    ({"n_results": "many"}, "agents.ragproxy.retrieve_config.n_results", "integer"),
])
def test_bad_retrieve_configs_name_the_field(change, path, needle):
    found = issues(rag_document(**change))
    assert path in found, found
    assert needle in found[path], found[path]
    assert "u:p@" not in str(found)  # a value is not repeated: it may hold a secret


def test_retrieve_config_belongs_to_the_retrieve_user_proxy_only():
    document = rag_document()
    document["agents"]["assistant"]["retrieve_config"] = {"docs_path": "docs"}
    found = issues(document)
    assert "retrieve_config is for class RetrieveUserProxyAgent only" in found["agents.assistant"]


@pytest.mark.parametrize(("docs_path", "why"), [
    ("/etc", "is an absolute path"),
    ("../secrets", "goes up with .."),
    ("~/notes", "a home folder"),
    ("https://example.com/notes.md", "is a URL"),
    ("ftp://example.com/notes.md", "is a URL"),
])
def test_docs_outside_the_run_folder_need_a_grant(run_folder, docs_path, why):
    team = Team.from_dict(rag_document(docs_path=["docs", docs_path]))
    [outside] = outside_work_dirs(team.spec)
    assert (outside.path, outside.value, outside.field) == ("agents.ragproxy.retrieve_config.docs_path", docs_path,
                                                            "docs_path")
    assert why in outside.why
    report = team.validate()
    assert report.refused and any(f"docs_path {docs_path!a}" in line and "NOT allowed" in line for line in report.lines())
    with pytest.raises(SpecError) as error:
        team.build(model="scripted")
    [issue] = error.value.issues
    assert issue.path == "agents.ragproxy.retrieve_config.docs_path" and f"--allow-work-dir {docs_path!a}" in issue.message
    assert not team.validate(allow_work_dirs=[docs_path]).refused


def test_a_link_out_of_the_run_folder_is_outside(run_folder, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (run_folder / "linked").symlink_to(elsewhere)
    team = Team.from_dict(rag_document(db_config={"path": "linked/index"}))
    [outside] = outside_work_dirs(team.spec)
    assert outside.path == "agents.ragproxy.retrieve_config.db_config.path" and "leads out" in outside.why


def test_functions_come_only_from_allowed_modules(run_folder):
    team = Team.from_dict(rag_document(custom_token_count_function="tests.spec.callables_module:greet"))
    assert team.validate().not_allowed == ["tests.spec.callables_module"]
    with pytest.raises(SpecError) as error:
        team.build(model="scripted")
    [issue] = error.value.issues
    assert issue.path == "agents.ragproxy.retrieve_config.custom_token_count_function"
    assert "not allowed" in issue.message
    with pytest.raises(SpecError) as error:  # allowed, but an object that is no function
        team.build(model="scripted", allow_modules=["tests.spec.callables_module"])
    assert "is not a function" in error.value.issues[0].message


def test_an_allowed_function_is_passed_resolved(run_folder):
    from parley.token_count_utils import count_token

    team = Team.from_dict(rag_document(custom_token_count_function="parley.token_count_utils:count_token"))
    with pytest.warns(DeprecationWarning):
        built = team.build(model="scripted", allow_modules=["parley.token_count_utils"])
    assert built.agents["ragproxy"].custom_token_count_function is count_token


def test_from_agents_says_these_classes_are_written_by_hand(run_folder):
    from parley import AssistantAgent
    from parley.retrieval.agents import RetrieveUserProxyAgent

    fresh = RetrieveUserProxyAgent("fresh", human_input_mode="NEVER", code_execution_config=False,
                                   retrieve_config={"docs_path": "docs", "db_config": {"path": "index2"}})
    with pytest.raises(SpecError) as error:
        Team.from_agents(fresh, AssistantAgent("helper", llm_config=False))
    [issue] = error.value.issues
    assert issue.path == "agents.fresh.class"
    assert "RetrieveUserProxyAgent" in issue.message and "written by hand" in issue.message


def teachable_document(**teachability) -> dict:
    """A teachable AssistantAgent (its default model; ``model=False``: llm_config: false)."""
    model = teachability.pop("model", None)
    return {"version": 1, "agents": {
        "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False},
        "teachable": {"class": "AssistantAgent", "teachability": teachability,
                      **({"llm_config": False} if model is False else {})}},
        "run": {"initiator": "user", "recipient": "teachable", "message": "hi", "max_turns": 1}}


def test_teachability_is_added_with_its_memos_under_the_run_folder(run_folder):
    team = Team.from_dict(teachable_document(path_to_db_dir="memos", recall_threshold=1.0))
    built = team.build(model="scripted")
    teachable = built.agents["teachable"]
    assert "remember user teachings" in teachable.system_message
    assert (run_folder / "memos").is_dir()
    assert Team.from_yaml(team.to_yaml()).to_dict() == team.to_dict()


def test_teachability_needs_a_model_and_a_memo_folder_under_the_run(run_folder):
    assert "teachability needs the agent's model" in issues(teachable_document(model=False))["agents.teachable"]
    assert "integer ≥ 1" in issues(teachable_document(max_num_retrievals=0))["agents.teachable.teachability.max_num_retrievals"]
    team = Team.from_dict(teachable_document(path_to_db_dir="/tmp/parley-memos-elsewhere"))
    with pytest.raises(SpecError) as error:
        team.build(model="scripted")
    [issue] = error.value.issues
    assert issue.path == "agents.teachable.teachability.path_to_db_dir" and "--allow-work-dir" in issue.message


def test_spec_check_walks_a_retrieval_team_without_writing_its_index(run_folder, capsys):
    import yaml

    from parley.cli import main

    document = rag_document()
    del document["agents"]["viewer"]  # not in the chat: the check would report it unreachable
    (run_folder / "rag.yaml").write_text(yaml.safe_dump(document))
    with pytest.warns(DeprecationWarning):  # RetrieveAssistantAgent, as in classic
        assert main(["spec", "check", "rag.yaml"]) == 0
    out = capsys.readouterr().out
    assert "check: ok" in out and "speakers: ragproxy, assistant" in out
    assert not (run_folder / "index").exists()  # the check's index lives in memory
