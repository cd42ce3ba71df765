"""What a browser's spec may ask of the Studio, rule by rule (``parley.studio.policy``): the
server's models only, filtered by public fields; allowed modules; the sandbox unless allowed;
relative work folders; documents from allowed folders; each run's files in its own folder.
Plain functions on small documents: no server, no run."""

from __future__ import annotations

import os

import pytest

from parley.spec import SpecError, Team
from parley.studio import policy
from parley.studio.policy import docs_allowed, docs_paths, issues_json, studio_team, with_run_folder

SERVER_MODELS = "Studio runs use the server's models"


def spec(**agents: dict) -> dict:
    """A user ``u`` chatting with an assistant ``a`` on model ``m`` (the server's), plus ``agents``."""
    return {"version": 1, "models": {"m": {"config_list": {"env_or_file": "OAI_CONFIG_LIST"}}},
            "agents": {"u": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False},
                       "a": {"class": "AssistantAgent", "llm_config": "m"}, **agents},
            "run": {"initiator": "u", "recipient": "a"}}


def problems(document: dict, **options) -> list[str]:
    with pytest.raises(SpecError) as caught:
        studio_team(document, allow_unsandboxed=options.pop("allow_unsandboxed", False), **options)
    return [str(issue) for issue in caught.value.issues]


def with_model(config_list) -> dict:
    document = spec()
    document["models"]["m"]["config_list"] = config_list
    return document


def test_a_plain_spec_passes_unchanged():
    team, notes = studio_team(spec(), allow_unsandboxed=False)
    assert notes == [] and team.to_dict() == spec()


def test_only_the_document_of_a_mapping():
    for value, kind in ((["a"], "list"), ("text", "str"), (None, "NoneType")):
        with pytest.raises(SpecError) as caught:
            studio_team(value, allow_unsandboxed=False)
        assert [str(i) for i in caught.value.issues] == [f"<document>: a team spec must be a JSON object, got {kind}"]


def test_models_are_the_server_s():
    written = (f"models.m.config_list: {SERVER_MODELS}: write {{env_or_file: OAI_CONFIG_LIST, filter_dict: {{model: NAME}}}} "
               "(GET /api/models lists them)")
    assert problems(with_model([{"model": "gpt-4o", "base_url": "http://attacker.example/v1", "api_key": {"env": "HOME"}}])) \
        == [written]
    assert problems(with_model([])) == [written]
    other = f"models.m.config_list: {SERVER_MODELS}: env_or_file must be OAI_CONFIG_LIST, without file_location"
    assert problems(with_model({"env_or_file": "MY_LIST"})) == [other]
    assert problems(with_model({"env_or_file": "OAI_CONFIG_LIST", "file_location": "/etc"})) == [other]
    assert problems(with_model({"file_location": "secrets"})) == [other]
    studio_team(with_model({}), allow_unsandboxed=False)  # env_or_file's default is the server's list
    studio_team(with_model({"file_location": ""}), allow_unsandboxed=False)


def test_models_are_filtered_by_public_fields_only():
    for key in ("model", "tags", "api_type"):
        studio_team(with_model({"filter_dict": {key: ["x"]}}), allow_unsandboxed=False)
    studio_team(with_model({"filter_dict": {"model": "a", "tags": ["b"], "api_type": "openai"}}), allow_unsandboxed=False)
    assert problems(with_model({"filter_dict": {"model": "a", "api_key": "sk-guess", "base_url": "http://x"}})) == [
        "models.m.config_list.filter_dict.api_key: a Studio run may filter the server's models only by model, tags, api_type",
        "models.m.config_list.filter_dict.base_url: a Studio run may filter the server's models only by model, tags, api_type"]
    # Not a mapping: the spec's own rule refuses it before the Studio's.
    assert problems(with_model({"filter_dict": ["model"]})) == ["models.m.config_list.filter_dict: must be a mapping"]
    studio_team(with_model({"filter_dict": None}), allow_unsandboxed=False)


def executor(config) -> dict:
    return spec(x={"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": config})


SANDBOXED_NOTE = ("agents.x.code_execution_config: the spec asks for unsandboxed execution, which this server does not allow "
                  "(start it with --allow-unsandboxed): code runs in the sandbox")
UNSANDBOXED_NOTE = ("agents.x.code_execution_config: runs code UNSANDBOXED on the server (asked for in the spec, allowed by "
                    "the server)")


@pytest.mark.parametrize("config, unsandboxed", [
    ({"use_docker": False}, True), ({"executor": "local"}, True), ({"executor": "jupyter"}, True),
    ({"use_docker": False, "executor": "docker"}, True), ({"executor": "sandbox"}, False), ({"executor": "docker"}, False),
    ({"use_docker": True}, False), ({}, False), ({"use_docker": "python:3"}, False),
])
def test_code_runs_in_the_sandbox_unless_the_server_allows_otherwise(config, unsandboxed):
    document = executor({"work_dir": "w", **config})
    team, notes = studio_team(document, allow_unsandboxed=False)
    got = team.to_dict()["agents"]["x"]["code_execution_config"]
    if unsandboxed:
        assert notes == [SANDBOXED_NOTE]
        assert got == {**{k: v for k, v in config.items() if k != "use_docker"}, "work_dir": "w", "executor": "sandbox"}
        assert not team.validate().unsandboxed
    else:
        assert notes == [] and got == {"work_dir": "w", **config}
    team, notes = studio_team(document, allow_unsandboxed=True)
    assert notes == ([UNSANDBOXED_NOTE] if unsandboxed else [])
    assert team.to_dict()["agents"]["x"]["code_execution_config"] == {"work_dir": "w", **config}


def test_work_dirs_are_relative_folders():
    for work_dir in ("w", "a/b", ".", "./w", "a..b", "w~"):
        studio_team(executor({"work_dir": work_dir, "executor": "sandbox"}), allow_unsandboxed=False)
    for work_dir in ("/etc", "../up", "a/../../b", "~", "~/x", "C:\\x", "c:x", "c:", "\\\\host\\share", "a\\..\\..\\b"):
        assert problems(executor({"work_dir": work_dir, "executor": "sandbox"})) == [
            (f"agents.x.code_execution_config.work_dir: must be a relative folder inside the server's folder, without '..', "
            f"got {work_dir!r}")], work_dir
    studio_team(executor({"executor": "sandbox"}), allow_unsandboxed=False)  # no work_dir: the run's default


def test_teachability_and_index_folders_are_relative():
    teachable = spec(t={"class": "AssistantAgent", "llm_config": "m", "teachability": {"path_to_db_dir": "../memos"}})
    assert problems(teachable) == [("agents.t.teachability.path_to_db_dir: must be a relative folder without '..' (it is "
                                   "placed in the run's folder), got '../memos'")]
    teachable["agents"]["t"]["teachability"]["path_to_db_dir"] = "memos"
    studio_team(teachable, allow_unsandboxed=False)
    teachable["agents"]["t"]["teachability"] = {}
    studio_team(teachable, allow_unsandboxed=False)
    retrieving = spec(r={"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                         "retrieve_config": {"db_config": {"path": "/var/index"}}})
    assert problems(retrieving) == [("agents.r.retrieve_config.db_config.path: must be a relative folder without '..' (it is "
                                    "placed in the run's folder), got '/var/index'")]
    retrieving["agents"]["r"]["retrieve_config"]["db_config"]["path"] = "index"
    studio_team(retrieving, allow_unsandboxed=False)


def retrieving(docs_path) -> dict:
    return spec(r={"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                   "retrieve_config": {"docs_path": docs_path}})


def test_documents_only_from_allowed_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "private").mkdir()
    (tmp_path / "docs" / "out").symlink_to(tmp_path / "private")
    for value in ("docs", "docs/sub/a.md", str(tmp_path / "docs" / "a.md"), "docs/../docs/a.md"):
        assert docs_allowed(value, ["docs"]), value
    for value in ("private/a.md", "docs/out/a.md", "docs/../private", "docsx/a.md", "/etc/passwd", "."):
        assert not docs_allowed(value, ["docs"]), value
    assert docs_allowed("https://example.com/a.md", ["https://example.com/a.md"])
    assert not docs_allowed("https://example.com/b.md", ["https://example.com/a.md", "docs"])
    assert not docs_allowed("file:///etc/passwd", ["docs", "/"])  # a URL only when allowed as written
    assert docs_allowed("file:///etc/passwd", ["file:///etc/passwd"])
    assert not docs_allowed("docs/a.md", ["https://example.com/", "ftp://docs"])  # a URL allows no folder
    assert not docs_allowed("file:/srv/docs/a.md", ["file:///srv/docs"])  # nor does any other "://"
    assert docs_allowed("docs/a.md", iter(["https://example.com/", "docs"]))  # any iterable, read once
    assert not docs_allowed("docs/a.md", [])
    document = retrieving(["docs/a.md", "private/b.md", "https://example.com/c.md"])
    assert problems(document, allow_docs=("docs",)) == [
        ("agents.r.retrieve_config.docs_path: 'private/b.md' is not in a folder this server allows documents from (its owner "
        "can allow one with parley studio --allow-docs FOLDER); allowed now: 'docs'"),
        ("agents.r.retrieve_config.docs_path: 'https://example.com/c.md' is not in a folder this server allows documents from "
        "(its owner can allow one with parley studio --allow-docs FOLDER); allowed now: 'docs'")]
    assert problems(retrieving("docs/a.md"))[0].endswith("allowed now: none")
    assert problems(retrieving("x"), allow_docs=("a", "b"))[0].endswith("allowed now: 'a', 'b'")
    team, _ = studio_team(document, allow_unsandboxed=False, allow_docs=("docs", "private", "https://example.com/c.md"))
    assert docs_paths(team) == ["docs/a.md", "private/b.md", "https://example.com/c.md"]


def test_docs_paths_of_every_retrieval_agent():
    document = retrieving("one.md")
    document["agents"]["s"] = {"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                               "retrieve_config": {"docs_path": ["two.md", "three"], "db_config": {"path": "idx"}}}
    assert docs_paths(Team.from_dict(document)) == ["one.md", "two.md", "three"]
    assert docs_paths(Team.from_dict(spec())) == []


def test_modules_only_those_the_server_allows():
    document = spec()
    document["agents"]["a"]["is_termination_msg"] = {"function": "json:loads"}
    document["tools"] = {"t": {"function": "json:dumps", "caller": "a", "executor": "u"},
                         "c": {"function": "parley.spec.tools:calculator", "caller": "a", "executor": "u"}}
    message = ("module 'json' is not allowed on this server (the server's owner can allow it with parley studio "
               "--allow-module json)")
    assert problems(document) == [f"tools.t.function: {message}", f"agents.a.is_termination_msg.function: {message}"]
    studio_team(document, allow_unsandboxed=False, allow_modules=("json",))
    assert list(policy._strings({"a": {"b": ["x", {"c": "y"}], "d": 3}, "e": "z"}, "")) == [
        ("a.b[0]", "x"), ("a.b[1].c", "y"), ("e", "z")]
    assert list(policy._strings(["x"], "top")) == [("top[0]", "x")]


def test_issues_as_json():
    error = SpecError([policy.SpecIssue("a.b", "bad", 3), policy.SpecIssue("", "worse")])
    assert issues_json(error) == [{"path": "a.b", "message": "bad", "line": 3}, {"path": "", "message": "worse"}]


def test_each_run_works_in_its_own_folder():
    document = spec(
        x={"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": {"work_dir": "w", "timeout": 5}},
        y={"class": "UserProxyAgent", "human_input_mode": "NEVER"},  # the class's default: code execution on
        z={"class": "AssistantAgent", "llm_config": "m", "code_execution_config": {}},
        t={"class": "AssistantAgent", "llm_config": "m", "teachability": {"path_to_db_dir": "mine"}},
        s={"class": "AssistantAgent", "llm_config": "m", "teachability": {}},
        r={"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
           "retrieve_config": {"docs_path": "d"}},
        q={"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
           "retrieve_config": {"db_config": {"path": "idx"}}},
    )
    agents = with_run_folder(Team.from_dict(document), "r1").to_dict()["agents"]
    runs = ".parley/studio/runs/r1"
    assert agents["x"]["code_execution_config"] == {"work_dir": f"{runs}/w", "timeout": 5}
    assert agents["y"]["code_execution_config"] == {"work_dir": f"{runs}/work"}
    assert agents["z"]["code_execution_config"] == {"work_dir": f"{runs}/work"}
    assert agents["u"]["code_execution_config"] is False and "code_execution_config" not in agents["a"]
    assert agents["t"]["teachability"] == {"path_to_db_dir": f"{runs}/mine"}
    assert agents["s"]["teachability"] == {"path_to_db_dir": f"{runs}/memos"}
    assert agents["r"]["retrieve_config"] == {"docs_path": "d", "db_config": {"path": f"{runs}/index"}}
    assert agents["q"]["retrieve_config"] == {"db_config": {"path": f"{runs}/idx"}}


def test_a_team_with_nothing_to_place_is_returned_as_it_is():
    team = Team.from_dict(spec())
    assert with_run_folder(team, "r1") is team
    for agent in ({"class": "UserProxyAgent", "human_input_mode": "NEVER"}, {"teachability": {}, "llm_config": "m"},
                  {"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                   "retrieve_config": {}}):
        team = Team.from_dict(spec(x=agent))
        assert with_run_folder(team, "r1") is not team


def test_the_runs_folder():
    assert policy.RUNS_FOLDER == ".parley/studio/runs" and not os.path.isabs(policy.RUNS_FOLDER)
