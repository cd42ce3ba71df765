"""spec/access.py and spec/imports.py rule by rule: which variables a spec may read and where
they go, which work_dirs it may name, which modules and functions a build may import. Pure and
fast (no server, no chat), so mutation runs can check every rule."""

from __future__ import annotations

import os
import types

import pytest

from parley.spec import access, imports
from parley.spec.access import EnvRead, OutsideWorkDir, env_allowed, env_reads, key_for_entry, official, work_dir_problem
from parley.spec.document import ModelEntry
from parley.spec.errors import SpecError
from parley.spec.loading import validate_document
from tests.spec.base_specs import team_document


def entry(**fields) -> ModelEntry:
    return ModelEntry.model_validate({"model": "m", **fields})


def spec_with(entries, used=True, config_list=None) -> object:
    document = team_document()
    document["models"]["gpt"]["config_list"] = config_list if config_list is not None else entries
    if not used:
        for agent in document["agents"].values():
            agent.pop("llm_config", None)
        document["models"]["spare"] = document["models"].pop("gpt")
        document["tools"] = {}
    return validate_document(document)


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "MY_TOKEN", "A1_API_KEY", "X_Y_TOKEN"])
def test_key_shaped_names(name):
    assert access.KEY_NAME.match(name)


@pytest.mark.parametrize("name", ["HOME", "openai_api_key", "_API_KEY", "1_API_KEY", "API_KEY", "X_API_KEYS", "X_TOKENS",
                                  "AWS_SECRET"])
def test_other_names(name):
    assert not access.KEY_NAME.match(name)


@pytest.mark.parametrize(("url", "is_official"), [
    (None, True), ("https://api.openai.com/v1", True), ("https://API.OpenAI.com", True), ("https://api.anthropic.com", True),
    ("https://me.openai.azure.com/", True), ("https://evil.example/v1", False), ("https://api.openai.com.evil.example", False),
    ("https://api.openai.com@evil.example/v1", False), ("https://evil.example/api.openai.com", False),
    ("https://openai.azure.com.evil.example", False), ("not a url", False),
])
def test_official_endpoints(url, is_official):
    assert official(url) is is_official


def test_where_each_entry_sends_its_key():
    document_entries = [
        {"model": "a", "api_key": {"env": "MY_API_KEY"}, "base_url": "https://gw.example/v1"},
        {"model": "b", "api_key": {"env": "OPENAI_API_KEY"}},
        {"model": "c", "api_type": "anthropic"},
        {"model": "d", "api_type": "Azure"},
        {"model": "e", "api_type": "local"},
        {"model": "f", "base_url": "https://gw.example/v1"},
        {"model": "g", "api_type": "mistral", "api_key": {"env": "MISTRAL_API_KEY"}},
        {"model": "h", "api_type": "local", "api_key": {"env": "LOCAL_TOKEN"}},
    ]
    reads = env_reads(spec_with(document_entries))
    where = "models.gpt.config_list"
    assert reads == [
        EnvRead(f"{where}[0].api_key", "MY_API_KEY", "https://gw.example/v1"),
        EnvRead(f"{where}[1].api_key", "OPENAI_API_KEY", "https://api.openai.com/v1"),
        EnvRead(f"{where}[2]", "ANTHROPIC_API_KEY", "https://api.anthropic.com", implicit=True),
        EnvRead(f"{where}[3]", "AZURE_OPENAI_API_KEY", "the provider's default endpoint", implicit=True),
        EnvRead(f"{where}[6].api_key", "MISTRAL_API_KEY", "the provider's default endpoint"),
        EnvRead(f"{where}[7].api_key", "LOCAL_TOKEN", "the embedded model (no network)"),
    ]
    # A model no agent uses reads nothing.
    assert env_reads(spec_with(document_entries, used=False)) == []


def test_every_used_model_is_read_after_unused_ones_and_config_lists():
    document = team_document()
    models = document["models"]
    gpt = models.pop("gpt")
    models["spare"] = {"config_list": [{"model": "s", "api_key": {"env": "SPARE_API_KEY"}}]}
    models["listed"] = gpt
    models["direct"] = {"config_list": [{"model": "d", "api_key": {"env": "DIRECT_API_KEY"}}]}
    document["agents"]["Reviewer"]["llm_config"] = "direct"
    for name in ("Engineer", "Critic", "manager"):
        document["agents"][name]["llm_config"] = "listed"
    reads = env_reads(validate_document(document))
    assert [read.name for read in reads] == ["OAI_CONFIG_LIST", "DIRECT_API_KEY"]


def test_a_config_list_reference_is_one_read():
    reads = env_reads(spec_with(None, config_list={"env_or_file": "MY_CONFIG_LIST"}))
    assert reads == [EnvRead("models.gpt.config_list", "MY_CONFIG_LIST",
                             "the endpoints that config list names (your own variable or file)", config_list=True)]


def test_which_reads_are_allowed():
    assert env_allowed(EnvRead("p", "HOME", "e", implicit=True), [])
    assert env_allowed(EnvRead("p", "HOME", "e"), ["PATH", "HOME"])
    assert not env_allowed(EnvRead("p", "HOME", "e"), ["PATH"])
    assert env_allowed(EnvRead("p", "OPENAI_API_KEY", "e"), [])
    assert not env_allowed(EnvRead("p", "OPENAI_API_KEY", "e", config_list=True), [])
    assert env_allowed(EnvRead("p", "OAI_CONFIG_LIST.json", "e", config_list=True), [])
    assert not env_allowed(EnvRead("p", "OAI_CONFIG_LIST", "e"), [])


def test_the_lines_validation_prints():
    read = EnvRead("models.m.config_list[0].api_key", "HOME", "https://gw.example")
    assert read.line(True) == "models.m.config_list[0].api_key: reads $HOME, sent to https://gw.example"
    assert read.line(False) == ("models.m.config_list[0].api_key: reads $HOME, sent to https://gw.example "
                                "(NOT allowed: pass --allow-env HOME)")
    implicit = EnvRead("p", "OPENAI_API_KEY", "e", implicit=True)
    assert implicit.line(True) == "p: the client reads $OPENAI_API_KEY, sent to e"
    listed = EnvRead("p", "OAI_CONFIG_LIST", "e", config_list=True)
    assert listed.line(True) == "p: reads a config list from $OAI_CONFIG_LIST (or the file OAI_CONFIG_LIST), sent to e"
    outside = OutsideWorkDir("agents.x.code_execution_config", "/tmp/w", "is an absolute path")
    assert outside.line(True) == ("agents.x.code_execution_config: work_dir '/tmp/w' is an absolute path "
                                  "(allowed by --allow-work-dir)")
    assert outside.line(False) == (
        "agents.x.code_execution_config: work_dir '/tmp/w' is an absolute path (NOT allowed: pass --allow-work-dir '/tmp/w')")


def test_check_env_refuses_by_path_and_name():
    spec = spec_with([{"model": "a", "api_key": {"env": "HOME"}, "base_url": "https://gw.example/v1"}])
    access.check_env(spec, ["HOME"])
    with pytest.raises(SpecError) as error:
        access.check_env(spec, iter(["PATH"]))
    [issue] = error.value.issues
    assert issue.path == "models.gpt.config_list[0].api_key"
    assert issue.message == ("the spec reads $HOME and sends it to https://gw.example/v1; only key-shaped names (*_API_KEY, "
                             "*_TOKEN) are read unless you allow it: --allow-env HOME (allow_env=['HOME'])")


def test_the_key_an_entry_without_one_gets():
    assert key_for_entry(entry(base_url="https://gw.example/v1")) == "no-key"
    assert key_for_entry(entry(base_url="https://gw.example/v1", api_key={"env": "MY_API_KEY"})) is None
    assert key_for_entry(entry(base_url="https://api.openai.com/v1")) is None
    assert key_for_entry(entry()) is None
    assert key_for_entry(entry(base_url="https://gw.example/v1", api_type="local")) is None
    assert key_for_entry(entry(base_url="https://gw.example/v1", api_type="Scripted")) is None


@pytest.mark.parametrize(("value", "why"), [
    ("", "is empty or not a path"), ("   ", "is empty or not a path"), ("a\0b", "is empty or not a path"),
    ("~", "starts with ~ (a home folder)"), ("~/w", "starts with ~ (a home folder)"),
    ("/tmp/w", "is an absolute path"), ("\\w", "is an absolute path"),
    ("a/../../b", "goes up with .."), ("..", "goes up with .."), ("a\\..\\..\\b", "goes up with .."),
    (".", "is the run's folder itself (code could change everything in it)"),
    ("./.", "is the run's folder itself (code could change everything in it)"),
    ("a", None), ("./a", None), ("a/./b", None), ("a..b", None), ("a~", None),
])
def test_work_dir_problems(value, why):
    assert work_dir_problem(value) == why


def test_work_dirs_outside_the_run_folder(tmp_path):
    (tmp_path / "inside").mkdir()
    os.symlink(tmp_path.parent, tmp_path / "out")
    os.symlink(tmp_path, tmp_path / "here")
    document = team_document()
    agents = document["agents"]
    agents["Executor"]["code_execution_config"]["work_dir"] = "out/x"
    agents["Admin"]["code_execution_config"] = {"work_dir": "inside/w"}
    agents["Critic"]["code_execution_config"] = {"work_dir": "here"}
    agents["Reviewer"]["code_execution_config"] = {"work_dir": "~"}
    spec = validate_document(document)
    found = access.outside_work_dirs(spec, str(tmp_path))
    real = os.path.realpath(tmp_path)
    assert found == [
        OutsideWorkDir("agents.Executor.code_execution_config", "out/x",
                       f"leads out of the run's folder (to {os.path.realpath(tmp_path.parent)}/x)"),
        OutsideWorkDir("agents.Critic.code_execution_config", "here", f"leads out of the run's folder (to {real})"),
        OutsideWorkDir("agents.Reviewer.code_execution_config", "~", "starts with ~ (a home folder)"),
    ]


def test_check_work_dirs_names_each_refused_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = team_document()
    document["agents"]["Executor"]["code_execution_config"]["work_dir"] = "/srv/w"
    spec = validate_document(document)
    access.check_work_dirs(spec, ["/srv/w"])
    with pytest.raises(SpecError) as error:
        access.check_work_dirs(spec, iter(["/srv"]))
    [issue] = error.value.issues
    assert issue.path == "agents.Executor.code_execution_config"
    assert issue.message == ("work_dir '/srv/w' is an absolute path: a spec's work_dir is a relative folder under the run's "
                             "folder; to use this one anyway pass --allow-work-dir '/srv/w' (allow_work_dirs=[...])")


# ------------------------------------------------------------------ imports


def test_allowed_modules_come_from_parley_the_environment_and_the_caller(monkeypatch):
    monkeypatch.setenv(imports.ALLOW_ENV, " a.b , ,c,a.b")
    assert imports.allowed_modules(["d", "c"]) == ("parley.spec.tools", "a.b", "c", "d")
    monkeypatch.delenv(imports.ALLOW_ENV)
    assert imports.allowed_modules() == ("parley.spec.tools",)


def test_a_module_allows_its_submodules_only():
    assert imports.is_allowed("json", ["json"])
    assert imports.is_allowed("json.decoder", ["json"])
    assert not imports.is_allowed("jsonschema", ["json"])
    assert not imports.is_allowed("json", ["json.decoder"])
    assert not imports.is_allowed("json", [])


def resolve_error(path, allowed) -> str:
    with pytest.raises(SpecError) as error:
        imports.resolve(path, allowed, "tools.t.function")
    [issue] = error.value.issues
    assert issue.path == "tools.t.function"
    return issue.message


def test_resolve_refusals_name_the_reason():
    assert resolve_error("json:dumps:x", ["json"]) == "module 'json' has no 'dumps:x'"
    assert resolve_error("os:getcwd", ["json", "csv"]).endswith("; allowed now: json, csv")
    assert resolve_error("tests.spec.callables_module:greet", ["tests.spec.callables_module"]) == (
        "tests.spec.callables_module:greet is not a function (a Greeter): a spec can only name functions")
    assert resolve_error("os:system", ["json"]) == (
        "module 'os' is not allowed to be imported: allow it with --allow-module os (or PARLEY_SPEC_ALLOW_MODULES=os); "
        "allowed now: json")
    assert resolve_error("no_such_module_xyz:f", ["no_such_module_xyz"]).startswith(
        "can't import module 'no_such_module_xyz': No module named")
    assert resolve_error("json:_default_encoder", ["json"]) == (
        "json:_default_encoder: private and special names (_default_encoder) can't be imported from a spec")
    assert resolve_error("json:JSONDecoder.__init__", ["json"]) == (
        "json:JSONDecoder.__init__: private and special names (__init__) can't be imported from a spec")
    assert resolve_error("json:nothing", ["json"]) == "module 'json' has no 'nothing'"
    assert resolve_error("json:decoder.nothing", ["json"]) == "module 'json' has no 'decoder.nothing'"
    assert resolve_error("json.decoder:NaN", ["json"]) == "json.decoder:NaN is not callable (a float)"
    # Imported into an allowed module, defined elsewhere: not allowed with it.
    assert resolve_error("parley.spec.imports:os.getcwd", ["parley.spec.imports"]) == (
        "parley.spec.imports:os.getcwd is defined in module 'posix', which is not allowed: name it from there "
        "and allow that module (--allow-module posix)")
    assert resolve_error("json:loads.__call__", ["json"]) == (
        "json:loads.__call__: private and special names (__call__) can't be imported from a spec")
    assert resolve_error("json:JSONDecoder", ["json"]) == (
        "json:JSONDecoder is not a function (a class): a spec can only name functions")


def test_resolve_gives_functions_methods_and_builtins_from_allowed_modules():
    import fractions
    import json
    import math

    assert imports.resolve("json:dumps", ["json"], "w") is json.dumps
    assert imports.resolve("math:sqrt", ["math"], "w") is math.sqrt  # a builtin
    assert imports.resolve("fractions:Fraction.from_float", ["fractions"], "w") == fractions.Fraction.from_float  # a bound method
    assert imports.resolve("json:JSONEncoder.encode", ["json"], "w") is json.JSONEncoder.encode
    assert imports.resolve("json.decoder:JSONDecoder.decode", ["json"], "w") is json.decoder.JSONDecoder.decode
    assert imports.resolve("parley.spec.tools:calculator", imports.allowed_modules(), "w").__name__ == "calculator"


def test_a_function_of_the_main_script_has_no_path(monkeypatch):
    import sys

    def script_function():
        pass

    script_function.__module__, script_function.__qualname__ = "__main__", "script_function"
    monkeypatch.setattr(sys.modules["__main__"], "script_function", script_function, raising=False)
    assert imports.path_of(script_function) is None  # it would import back in this process, not in another


def test_path_of_only_for_functions_that_import_back():
    import json

    def local():
        pass

    assert imports.path_of(json.dumps) == "json:dumps"
    assert imports.path_of(json.JSONEncoder.encode) == "json.encoder:JSONEncoder.encode"
    assert imports.path_of(local) is None  # "<locals>" in its qualname
    assert imports.path_of(42) is None
    assert imports.path_of(lambda: 0) is None
    def named(module, qualname):
        return types.SimpleNamespace(__module__=module, __qualname__=qualname)

    assert imports.path_of(named("no_such_module_xyz", "f")) is None
    assert imports.path_of(named("json", "dumps")) is None  # json.dumps is another object
    assert imports.path_of(named("json", "nothing")) is None
    assert imports.path_of(named("json", "JSONEncoder.nothing")) is None
    assert imports.path_of(named("__main__", "f")) is None
    assert imports.path_of(named("", "f")) is None and imports.path_of(named("json", "")) is None
    # A function made in another function that was then put at the top of its module.
    assert imports.path_of(named("json", "f.<locals>.g")) is None
