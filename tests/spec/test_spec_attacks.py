"""A spec is a file someone else may have written: what it can't make parley do. One test (or
group) per finding of the attacker review (spec check running code, work_dir outside the run's
folder, environment variables sent to the spec's endpoint, values echoed in errors, a tampered
stored spec on resume, escape sequences in names, template format specs, YAML depth and anchors,
a file shadowing a gallery team, credentials in base_url, classes named as tools)."""

from __future__ import annotations

import http.server
import json
import os
import threading
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from parley import AssistantAgent, UserProxyAgent
from parley.cli import main
from parley.spec import SpecError, Team
from parley.spec.models import llm_config_for
from parley.spec.runs import resume_recorded, run_recorded
from parley.store import RunStore

from .base_specs import team_document

SECRET = "sk-LIVE-SECRET-0123456789"


def two_agents(user: dict | None = None, message: str = "hi", **top) -> dict:
    """A helper that says ``message`` to a user proxy (which runs code as ``user`` configures it)."""
    return {"version": 1, **top, "agents": {
        "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", **(user or {})},
        "helper": {"llm_config": False, "default_auto_reply": "ok TERMINATE"}},
        "run": {"initiator": "helper", "recipient": "user", "max_turns": 2, "message": message}}


def write(path: Path, document: dict | str) -> Path:
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document), encoding="utf-8")
    return path


# ---------------------------------------------------------------- 1. spec check runs nothing

def test_spec_check_runs_no_code_and_prints_the_validation_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    spec = write(tmp_path / "team.yaml", two_agents({"code_execution_config": {"use_docker": False, "work_dir": "w"}},
                                                    f"```sh\ntouch {marker}; echo ran-on-host\n```"))
    main(["spec", "check", str(spec)])
    out = capsys.readouterr().out
    assert not marker.exists()
    assert "note: agents.user.code_execution_config: runs code UNSANDBOXED" in out
    assert "agents.user: asked to run 1 code block(s) (sh) (recorded, not run)" in out


def test_spec_check_replaces_tools_with_recorders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = team_document()
    document["tools"]["calc"]["function"] = "tests.spec.loud_module:shout"
    recorded: list = []
    built = Team.from_dict(document).build(model="scripted", allow_modules=["tests.spec.loud_module"], record=recorded)
    stand_in = built.agents["Executor"].function_map["calc"]
    assert stand_in(text="x") == "(parley spec check: the tool is recorded, not run)"
    assert recorded == [("tools.calc", "a call")]
    executor = built.agents["Executor"].code_executor
    assert type(executor).__name__ == "RecordingExecutor"


# ---------------------------------------------------------------- 2. work_dir under the run's folder

@pytest.mark.parametrize("work_dir", ["~", "~/.ssh", "/", "/tmp/elsewhere", "../..", "a/../../b", ".", ""])
def test_a_work_dir_outside_the_run_folder_is_refused_unless_allowed(tmp_path, monkeypatch, work_dir):
    monkeypatch.chdir(tmp_path)
    team = Team.from_dict(two_agents({"code_execution_config": {"work_dir": work_dir}}))
    with pytest.raises(SpecError, match=r"^agents\.user\.code_execution_config: work_dir .* --allow-work-dir"):
        team.build(model="scripted")
    report = team.validate()
    assert report.refused and any("NOT allowed: pass --allow-work-dir" in line for line in report.lines())
    allowed = team.validate(allow_work_dirs=[work_dir])
    assert not allowed.refused and any("(allowed by --allow-work-dir)" in line for line in allowed.lines())


def test_a_work_dir_link_leading_out_of_the_run_folder_is_refused(tmp_path, monkeypatch):
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    (run_folder / "out").symlink_to(tmp_path)
    monkeypatch.chdir(run_folder)
    with pytest.raises(SpecError, match="leads out of the run's folder"):
        Team.from_dict(two_agents({"code_execution_config": {"work_dir": "out/x"}})).build(model="scripted")
    Team.from_dict(two_agents({"code_execution_config": {"work_dir": "work/x"}})).build(model="scripted")


def test_validate_reports_the_work_dir_on_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path / "t.yaml", two_agents({"code_execution_config": {"work_dir": "~"}}))
    assert main(["spec", "validate", str(spec)]) == 0
    assert "agents.user.code_execution_config: work_dir '~' starts with ~ (a home folder) (NOT allowed" in capsys.readouterr().out
    assert main(["run", str(spec), "--store", str(tmp_path / "r.db")]) == 1
    assert "--allow-work-dir '~'" in capsys.readouterr().err


def rag_spec(retrieve_config: dict) -> dict:
    """A retrieval user proxy that asks a helper about its documents."""
    return {"version": 1, "agents": {
        "rag": {"class": "RetrieveUserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                "retrieve_config": {"db_config": {"path": "index"}, **retrieve_config}},
        "helper": {"llm_config": False, "default_auto_reply": "ok TERMINATE"}},
        "run": {"initiator": "rag", "recipient": "helper", "max_turns": 1, "message": "what is in there?"}}


@pytest.mark.parametrize("retrieve_config, field", [
    ({"docs_path": "/etc"}, "docs_path"), ({"docs_path": ["docs", "../../home"]}, "docs_path"),
    ({"docs_path": "docs", "db_config": {"path": "/tmp/parley-spec-index"}}, "db_config.path")])
def test_retrieval_paths_outside_the_run_folder_are_refused_even_by_spec_check(tmp_path, monkeypatch, capsys,
                                                                               retrieve_config, field):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    team = Team.from_dict(rag_spec(retrieve_config))
    refusal = rf"^agents\.rag\.retrieve_config\.{field}: {field} .* --allow-work-dir"
    with pytest.raises(SpecError, match=refusal):
        team.build(model="scripted")
    # spec check records code and tools in place of running them, but a retrieval would still read
    # the documents: the same refusal.
    with pytest.raises(SpecError, match=refusal):
        team.build(model="scripted", record=[])
    spec = write(tmp_path / "rag.yaml", rag_spec(retrieve_config))
    assert main(["spec", "check", str(spec)]) != 0
    assert "--allow-work-dir" in capsys.readouterr().err
    assert not (tmp_path / "index").exists() and not Path("/tmp/parley-spec-index").exists()


def test_a_url_in_docs_path_is_never_fetched_unless_allowed(recording_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url, seen = recording_server
    team = Team.from_dict(rag_spec({"docs_path": f"{url}/notes.md"}))
    with pytest.raises(SpecError, match=r"docs_path .* is a URL \(fetched from the network\)"):
        team.run(model="scripted", silent=True)
    assert seen == []
    assert any("is a URL" in line and "NOT allowed" in line for line in team.validate().lines())


@pytest.mark.parametrize("key", ["embedding_function", "custom_text_split_function", "custom_token_count_function"])
def test_retrieval_functions_are_import_paths_from_allowed_modules_only(tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    with pytest.raises(SpecError, match=rf"^agents\.rag\.retrieve_config\.{key}: must be an import path"):
        Team.from_dict(rag_spec({"docs_path": "docs", key: "lambda texts: __import__('os').system('id')"}))
    team = Team.from_dict(rag_spec({"docs_path": "docs", key: "os:system"}))
    with pytest.raises(SpecError, match=rf"^agents\.rag\.retrieve_config\.{key}: module 'os' is not allowed"):
        team.build(model="scripted")
    with pytest.raises(SpecError, match=rf"^agents\.rag\.retrieve_config\.{key}: os:system is defined in module"):
        team.build(model="scripted", allow_modules=["os"])  # os allowed: system still lives in posix


# ---------------------------------------------------------------- 3. environment variables

class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list] = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).seen.append(self.headers.get("Authorization"))
        body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "usage": {
            "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}, "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "TERMINATE"}}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_server():
    _Recorder.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1", _Recorder.seen
    server.shutdown()
    server.server_close()


def with_model(entry: dict) -> dict:
    return {"version": 1, "models": {"m": {"config_list": [entry]}}, "agents": {
        "a": {"class": "AssistantAgent", "llm_config": "m"},
        "u": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False}},
        "run": {"initiator": "u", "recipient": "a", "message": "hi", "max_turns": 1}}


def test_a_spec_reads_only_key_shaped_variables_unless_allowed(recording_server, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    url, seen = recording_server
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "AWS-SECRET-123")
    team = Team.from_dict(with_model({"model": "gpt-4o", "base_url": url, "api_key": {"env": "AWS_SECRET_ACCESS_KEY"}}))
    refusal = r"reads \$AWS_SECRET_ACCESS_KEY and sends it to http://127\.0\.0\.1.*--allow-env AWS_SECRET_ACCESS_KEY"
    with pytest.raises(SpecError, match=refusal):
        team.run(silent=True)
    assert seen == []
    report = "\n".join(team.validate().lines())
    assert f"models.m.config_list[0].api_key: reads $AWS_SECRET_ACCESS_KEY, sent to {url} (NOT allowed" in report
    team.run(silent=True, allow_env=["AWS_SECRET_ACCESS_KEY"])  # granted: the user asked for it
    assert seen == ["Bearer AWS-SECRET-123"]
    assert f"reads $AWS_SECRET_ACCESS_KEY, sent to {url}" in team.validate(allow_env=["AWS_SECRET_ACCESS_KEY"]).lines()[0]


def test_an_entry_with_its_own_base_url_gets_no_key_from_the_environment(recording_server, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    url, seen = recording_server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-openai-456")
    Team.from_dict(with_model({"model": "gpt-4o", "base_url": url})).run(silent=True)
    assert seen == ["Bearer no-key"]
    # The provider's own endpoint still reads the provider's variable (reported as such).
    team = Team.from_dict(with_model({"model": "gpt-4o"}))
    assert team.validate().lines() == ["models.m.config_list[0]: the client reads $OPENAI_API_KEY, sent to https://api.openai.com/v1"]
    assert "api_key" not in llm_config_for("m", team.spec.models["m"])["config_list"][0]
    official = Team.from_dict(with_model({"model": "gpt-4o", "base_url": "https://api.openai.com/v1"}))
    assert official.validate().lines() == [
        "models.m.config_list[0]: the client reads $OPENAI_API_KEY, sent to https://api.openai.com/v1"]


def test_a_config_list_variable_value_is_never_echoed(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "AWS-SECRET-789")
    document = with_model({"model": "x"})
    document["models"]["m"]["config_list"] = {"env_or_file": "AWS_SECRET_ACCESS_KEY"}
    team = Team.from_dict(document)
    with pytest.raises(SpecError, match="--allow-env AWS_SECRET_ACCESS_KEY"):
        team.build()
    with pytest.raises(SpecError) as caught:
        team.build(allow_env=["AWS_SECRET_ACCESS_KEY"])
    assert "AWS-SECRET-789" not in str(caught.value) and "AWS_SECRET_ACCESS_KEY" in str(caught.value)


# ---------------------------------------------------------------- 5. a tampered stored spec

def _stored_run(tmp_path) -> tuple[RunStore, str]:
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    with store:
        run_id, _ = run_recorded(Team.from_dict(two_agents({"code_execution_config": False})), store, silent=True)
    return store, run_id


def _tamper(store: RunStore, run_id: str, document: str, digest: str) -> None:
    from parley.store import schema

    with store.engine.begin() as connection:
        connection.execute(schema.run_specs.update().where(schema.run_specs.c.run_id == run_id).values(
            document=document, digest=digest))


def test_resume_grants_nothing_from_the_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    store, run_id = _stored_run(tmp_path)
    marker = tmp_path / "PWNED"
    evil = Team.from_dict(two_agents({"code_execution_config": {"use_docker": False, "work_dir": "w"}},
                                     f"```sh\ntouch {marker}\n```"))
    with store:
        _tamper(store, run_id, evil.to_json(), evil.digest)  # a matching hash is easy to write
        with pytest.raises(SpecError, match=r"UNSANDBOXED.*--allow-unsandboxed"):
            resume_recorded(store, run_id)
    assert main(["resume", run_id, "--store", f"sqlite:///{tmp_path / 'runs.db'}"]) == 1
    err = capsys.readouterr().err
    assert "note: agents.user.code_execution_config: runs code UNSANDBOXED" in err and "--allow-unsandboxed" in err
    assert not marker.exists()


@pytest.mark.parametrize("document, words", [("{not json", "can't be read (JSONDecodeError)"),
                                              ('{"version": 1, "agents": {}}', "is not valid any more")])
def test_a_damaged_stored_spec_is_a_clear_error(tmp_path, monkeypatch, capsys, document, words):
    monkeypatch.chdir(tmp_path)
    store, run_id = _stored_run(tmp_path)
    with store:
        _tamper(store, run_id, document, "0" * 64)
    assert main(["resume", run_id, "--store", f"sqlite:///{tmp_path / 'runs.db'}"]) == 1
    assert words in capsys.readouterr().err


# ---------------------------------------------------------------- 6. names

@pytest.mark.parametrize("where", ["agents", "models", "group_chats", "tools", "name"])
def test_names_are_plain_ascii(where):
    document = team_document()
    bad = "user\r\x1b[2K  note: sandboxed\x1b[8m"
    if where == "name":
        document["name"] = bad
    else:
        document[where][bad] = document[where].pop(next(iter(document[where])))
    with pytest.raises(SpecError) as caught:
        Team.from_dict(document)
    assert "name 'user\\r\\x1b[2K  note: sandboxed\\x1b[8m' is not allowed" in str(caught.value)
    assert "\x1b" not in str(caught.value) and "\r" not in str(caught.value)


def test_lookalike_letters_are_not_names():
    document = team_document()
    document["agents"]["Аdmin"] = {"llm_config": False}  # a Cyrillic А
    with pytest.raises(SpecError, match=r"agent name '\\u0410dmin' is not allowed"):
        Team.from_dict(document)


def test_the_command_line_prints_no_control_characters(tmp_path, capsys):
    spec = write(tmp_path / "t.yaml", 'version: 1\nname: "demo\\e[8m"\nagents:\n  a: {llm_config: false}\n  "b\\e[8m": {}\n'
                                      'run: {initiator: a, recipient: "b\\e[8m"}\n')
    assert main(["spec", "validate", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\\x1b[8m" in captured.err


# ---------------------------------------------------------------- 7. values never echoed

KEY_CASES = [
    "  a: {class: AssistantAgent, llm_config: {config_list: [{model: gpt-4o, api_key: %s}]}}",
    "  a: {class: AssistantAgent, llm_config: {config_list: [{model: gpt-4o, api_key: [%s]}]}}",
    "  a: {class: AssistantAgent, llm_config: [%s]}",
    "  a: {system_message: {token: %s}}",
    "  a: {default_auto_reply: [%s]}",
    "  a: {code_execution_config: 'OPENAI_API_KEY=%s'}",
    "  a: {code_execution_config: {use_docker: {auth: %s}}}",
    "  a: {is_termination_msg: {function: '%s'}}",
    "  a: {description: {nested: {deeper: [{api_key: %s}]}}}",
]
MODEL_CASES = [
    "  m: {config_list: [{model: x, apikey: %s}]}",
    "  m: {config_list: [{model: x, base_url: [%s]}]}",
    "  m: {config_list: {env_or_file: X, filter_dict: [%s]}}",
    "  m: {config_list: [{model: x, default_headers: {Authorization: Bearer %s}}]}",
    "  m: {config_list: [{model: x}], temperature: '%s'}",
    "  m: {config_list: [{model: x, base_url: 'https://u:%s@h/v1'}]}",
]


@pytest.mark.parametrize("secret", [SECRET, "hunter2hunter2"])
@pytest.mark.parametrize("case", KEY_CASES + MODEL_CASES)
def test_no_error_repeats_a_key(case, secret):
    if case in MODEL_CASES:
        text = ("version: 1\nmodels:\n" + case % secret + "\nagents:\n  a: {llm_config: m, class: AssistantAgent}\n"
                "  b: {llm_config: false}\nrun: {initiator: b, recipient: a}\n")
    else:
        text = "version: 1\nagents:\n  b: {llm_config: false}\n" + case % secret + "\nrun: {initiator: b, recipient: a}\n"
    if secret != SECRET and "temperature" in case:
        pytest.skip("a plain word in a number's place is shown (it is no key-shaped text and no mapping)")
    with pytest.raises(SpecError) as caught:
        Team.from_yaml(text)
    assert secret not in str(caught.value)


# ---------------------------------------------------------------- 8. templates

@pytest.mark.parametrize("template", ["{agentlist:>400000000}", "{roles.__class__}", "{agentlist!r}", "{0}", "{x}", "{roles"])
def test_speaker_templates_take_only_bare_fields(template):
    document = team_document()
    document["group_chats"]["team"]["select_speaker_message_template"] = template
    with pytest.raises(SpecError, match=r"^group_chats\.team\.select_speaker_message_template: "):
        Team.from_dict(document)


def test_speaker_templates_with_bare_fields_load():
    document = team_document()
    document["group_chats"]["team"]["select_speaker_message_template"] = "Roles: {roles}. Pick from {agentlist}; {{literal}}."
    Team.from_dict(document)


# ---------------------------------------------------------------- 9, 10. YAML

@pytest.mark.parametrize("depth", [65, 600, 5000])
def test_deep_nesting_is_a_spec_error(depth):
    text = "version: 1\nname: " + "[" * depth + "]" * depth + "\nagents: {a: {}}\nrun: {initiator: a, recipient: a}\n"
    # Far deeper, libyaml's scanner (which reads ahead) stops first: a SpecError with the line too.
    with pytest.raises(SpecError, match=r"^<document> \(line 2\): (nested more than 64 levels deep|malformed YAML)"):
        Team.from_yaml(text)
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    with pytest.raises(SpecError, match="nested more than 64 levels deep"):
        Team.from_dict({"version": 1, "name": nested, "agents": {"a": {}}, "run": {"initiator": "a", "recipient": "a"}})


def test_a_huge_number_is_a_spec_error_with_its_line():
    text = "version: 1\nagents:\n  a: {max_consecutive_auto_reply: " + "9" * 5000 + "}\nrun: {initiator: a, recipient: a}\n"
    with pytest.raises(SpecError, match=r"\(line 3\): a number more than 100 characters long"):
        Team.from_yaml(text)


@pytest.mark.parametrize("text", [
    "version: 1\nname: &n team\nagents: {a: {}, b: {}}\nrun: {initiator: a, recipient: b, message: *n}\n",
    "version: 1\nname: &n team\nagents: {a: {}, b: {}}\nrun: {initiator: a, recipient: b}\n",
    "version: 1\nagents: {a: &x {}, b: *x}\nrun: {initiator: a, recipient: b}\n",
])
def test_anchors_and_aliases_are_refused(text):
    with pytest.raises(SpecError, match="anchors and aliases"):
        Team.from_yaml(text)


# ---------------------------------------------------------------- 11. gallery names

def test_a_file_named_like_a_gallery_team_is_refused_unless_said_which(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "coding", two_agents({"code_execution_config": {"use_docker": False, "work_dir": "w"}}, name="innocent"))
    assert main(["spec", "validate", "coding"]) == 1
    refusal = "'coding' is both a file here and a gallery team: write ./coding for the file or gallery:coding"
    assert refusal in capsys.readouterr().err
    assert main(["spec", "validate", "gallery:coding"]) == 0
    assert capsys.readouterr().out.startswith("gallery:coding: valid (coding:")
    assert main(["spec", "validate", "./coding"]) == 0
    assert "(innocent:" in capsys.readouterr().out


# ---------------------------------------------------------------- info: URLs, imports, bounds

@pytest.mark.parametrize("url", ["https://user:pw-123456@llm.example/v1", "https://llm.example/v1?api-key=sk-IN-QUERY",
                                 "https://llm.example/v1?token=abc", "https://llm.example/v1?key=abc"])
def test_credentials_in_base_url_are_refused(url):
    with pytest.raises(SpecError, match=r"base_url.*must not hold credentials") as caught:
        Team.from_dict(with_model({"model": "x", "base_url": url}))
    assert url not in str(caught.value)


def test_from_agents_refuses_credentials_in_base_url():
    url = "https://user:sk-IN-URL-SECRET@llm.example/v1?api-key=sk-IN-QUERY"
    a = AssistantAgent("a", llm_config={"config_list": [{"model": "gpt-4o", "base_url": url}]})
    u = UserProxyAgent("u", human_input_mode="NEVER", code_execution_config=False)
    with pytest.raises(SpecError) as caught:
        Team.from_agents(u, a, message="hi")
    assert "sk-IN-URL-SECRET" not in str(caught.value) and "sk-IN-QUERY" not in str(caught.value)


def test_a_class_is_not_a_tool():
    document = team_document()
    document["tools"]["calc"]["function"] = "fractions:Fraction"
    with pytest.raises(SpecError, match=r"fractions:Fraction is not a function \(a class\)"):
        Team.from_dict(document).build(model="scripted", allow_modules=["fractions"])


@pytest.mark.parametrize("path, value", [("agents.Executor.code_execution_config.timeout", 10**9),
                                         ("agents.Executor.code_execution_config.max_output_bytes", 10**12),
                                         ("group_chats.team.max_round", 10**9), ("models.gpt.timeout", 10.0**9),
                                         ("run.max_turns", 10**9)])
def test_upper_bounds(path, value):
    document = team_document()
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[part]
    node[last] = value
    with pytest.raises(SpecError, match=rf"^{path.replace('.', '[.]')}: must be (an integer|a number) ≤ "):
        Team.from_dict(document)


def test_a_spec_may_still_name_a_key_variable_and_a_work_dir_under_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MY_API_KEY", "k")
    team = Team.from_dict({**with_model({"model": "x", "base_url": "http://127.0.0.1:9/v1", "api_key": {"env": "MY_API_KEY"}})})
    assert not team.validate().refused
    team.build()
    assert os.environ["MY_API_KEY"] == "k"


def test_the_run_summary_is_printed_with_control_characters_escaped(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    document = two_agents({"code_execution_config": False, "default_auto_reply": "done\x1b]52;c;cm0gLXJmIH4=\x07"})
    document["run"]["max_turns"] = 1
    spec = write(tmp_path / "t.yaml", document)
    assert main(["run", str(spec), "--store", str(tmp_path / "r.db")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "done\\x1b]52;c;cm0gLXJmIH4=\\x07" in out


@pytest.mark.parametrize("where", ["agents", "models", "group_chats", "tools", "name"])
def test_a_name_may_not_end_in_a_newline(where):
    document = team_document()
    if where == "name":
        document["name"] = "research\n"
    else:
        document[where]["planner\n"] = document[where].pop(next(iter(document[where])))
    with pytest.raises(SpecError, match="is not allowed"):
        Team.from_dict(document)


@pytest.mark.parametrize("title, ok", [("my research", True), ("a b c", True), ("my  research", False),
                                       (" research", False), ("research ", False)])
def test_a_team_name_is_a_title_with_single_spaces(title, ok):
    document = {**team_document(), "name": title}
    if ok:
        assert Team.from_dict(document).to_dict()["name"] == title
    else:
        with pytest.raises(SpecError, match=r"team name .* is not allowed"):
            Team.from_dict(document)
