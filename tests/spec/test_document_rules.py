"""The spec document's own rules, one by one (``parley.spec.document``): names, templates, URLs,
import paths, keys only by reference, ``use_docker``, Ray resources, what one agent's, group
chat's and run's fields say about each other. Each refusal is checked with its path and exact
message through ``validate_document``; no team is built."""

from __future__ import annotations

import datetime

import pytest

from parley.spec import SpecError
from parley.spec import document as doc
from parley.spec.document import CodeExecutionSpec, RetrieveConfigSpec, TeamSpec, dump
from parley.spec.loading import validate_document

NAME_RULE = "1-64 ASCII letters, digits, '_', '.' or '-', not starting with '.' or '-'"


def base(**changes) -> dict:
    """Agents a and b in one chat; ``changes`` replace top-level keys."""
    return {"version": 1, "agents": {"a": {}, "b": {}}, "run": {"initiator": "a", "recipient": "b"}, **changes}


def with_agent(**fields) -> dict:
    return base(agents={"a": fields, "b": {}})


def problems(document: dict) -> list[str]:
    with pytest.raises(SpecError) as caught:
        validate_document(document)
    return [str(issue) for issue in caught.value.issues]


def valid(document: dict) -> TeamSpec:
    return validate_document(document)


def test_names_of_agents_models_tools_and_group_chats():
    for name in ("a", "A9", "_x", "9", "a.b-c_d", "a" * 64):
        valid(base(agents={name: {}, "b": {}}, run={"initiator": name, "recipient": "b"}))
    for name, shown in ((".a", "'.a'"), ("-a", "'-a'"), ("a b", "'a b'"), ("a" * 65, repr("a" * 65)), ("", "''"),
                        ("é", "'\\xe9'"), ("a\x1b[2J", "'a\\x1b[2J'"), ("a\n", "'a\\n'")):
        assert problems(base(agents={name: {}, "b": {}})) == [f"agents: agent name {shown} is not allowed: use {NAME_RULE}"]
    models = {"bad model": {"config_list": []}}
    assert problems(base(models=models)) == [f"models: model name 'bad model' is not allowed: use {NAME_RULE}"]
    tools = {"bad tool": {"function": "m:f", "caller": "a", "executor": "b"}}
    assert problems(base(tools=tools)) == [f"tools: tool name 'bad tool' is not allowed: use {NAME_RULE}"]
    assert problems(base(group_chats={"bad group": {"agents": ["a"]}})) == [
        f"group_chats: group chat name 'bad group' is not allowed: use {NAME_RULE}"]


def test_check_names_passes_other_values_through():
    assert doc._check_names("agent", ["not", "a", "mapping"]) == ["not", "a", "mapping"]
    assert doc._check_names("agent", None) is None
    assert doc.check_names_of("tools", {"ok": 1}) == {"ok": 1}
    doc.check_name("agent", 3)  # not a string: its type is pydantic's to refuse
    with pytest.raises(ValueError, match=r"^tool name '-x' is not allowed: use "):
        doc.check_names_of("tools", {"ok": 1, "-x": 2})


def test_the_tool_name_and_the_admin_name():
    tool = {"function": "m:f", "caller": "a", "executor": "b"}
    assistant = {"a": {"class": "AssistantAgent"}, "b": {}}
    for name in ("calc", "a.b-c"):
        assert valid(base(agents=assistant, tools={"t": {**tool, "name": name}})).tools["t"].name == name
    assert problems(base(tools={"t": {**tool, "name": "my tool"}})) == [
        f"tools.t.name: tool name 'my tool' is not allowed: use {NAME_RULE}"]
    assert doc.check_tool_name(None) is None and doc.check_admin_name(None) is None
    group = {"agents": ["a"]}
    document = base(agents={"a": {}, "b": {}, "m": {"class": "GroupChatManager", "groupchat": "g"}},
                    group_chats={"g": {**group, "admin_name": "Boss_1"}}, run={"initiator": "b", "recipient": "m"})
    assert valid(document).group_chats["g"].admin_name == "Boss_1"
    document["group_chats"]["g"]["admin_name"] = "the boss"
    assert problems(document) == [f"group_chats.g.admin_name: admin name 'the boss' is not allowed: use {NAME_RULE}"]


def test_the_team_name():
    for name in ("my research", "a", "R2-D2 v1.0", "x" * 64, "a b c"):
        assert valid(base(name=name)).name == name
    rule = "1-64 ASCII letters, digits, '_', '.', '-' or single spaces, not starting with '.', '-' or a space"
    for name in (" a", "a  b", "a ", "-a", ".a", "x" * 65, "a\tb", "ü"):
        assert problems(base(name=name)) == [f"name: team name {name!a} is not allowed: use {rule}"]
    assert doc.check_team_name(None) is None


def test_templates_use_only_the_two_fields_bare():
    for template in ("Pick from {agentlist}.", "{roles} then {agentlist}", "no fields", "{{literal}} {roles}", "", "a}}b"):
        assert doc.check_template(template) == template
    refusals = {
        "{agentlist:>400000000}": "got {agentlist:>400000000}",
        "{roles!r}": "got {roles!r}",
        "{roles!s:x}": "got {roles!s:x}",
        "{task}": "got {task}",
        "{0}": "got {0}",
        "{agentlist.__class__}": "got {agentlist.__class__}",
        "{é}": "got {\\xe9}",
        "{agentlist:" + "x" * 30 + "}": "got {agentlist:" + "x" * 20 + "}",
        "{{literal}} {task}": "got {task}",  # escaped braces are literal text: the fields after them count too
    }
    for template, got in refusals.items():
        with pytest.raises(ValueError) as caught:
            doc.check_template(template)
        assert str(caught.value) == ("may only use the fields {roles} and {agentlist}, bare (no format spec or "
                                     f"conversion); {got}"), template
    for template in ("{", "}", "{roles", "a } b"):
        with pytest.raises(ValueError) as caught:
            doc.check_template(template)
        assert str(caught.value).startswith("is not a valid template (") and str(caught.value).endswith(
            "); write literal braces as {{ and }}"), template


def test_templates_are_checked_in_every_template_field():
    for field in ("select_speaker_message_template", "select_speaker_prompt_template",
                  "select_speaker_auto_multiple_template", "select_speaker_auto_none_template"):
        document = base(agents={"a": {}, "b": {}, "m": {"class": "GroupChatManager", "groupchat": "g"}},
                        group_chats={"g": {"agents": ["a"], field: "{task}"}}, run={"initiator": "b", "recipient": "m"})
        (issue,) = problems(document)
        assert issue.startswith(f"group_chats.g.{field}: may only use the fields"), issue


def model_entry(**fields) -> dict:
    return base(models={"gpt": {"config_list": [{"model": "gpt-4o", **fields}]}})


def test_base_urls_hold_no_credentials():
    for url in ("https://api.example.com/v1", "http://127.0.0.1:8000/v1?api-version=1", "http://[::1]:8000/v1",
                "https://h.example/v1?page=2&x="):
        assert doc.check_base_url(url) == url
        valid(model_entry(base_url=url))
    for url in ("https://user:pw@api.example.com/v1", "https://user@api.example.com/v1", "https://:pw@h.example/",
                "https://user:@h.example/"):
        assert problems(model_entry(base_url=url)) == [("models.gpt.config_list[0].base_url: must not hold credentials "
                                                       "(user:password@): give the key as api_key: {env: NAME}")], url
    for url in ("https://h.example/v1?key=abc", "https://h.example/v1?a=1&api_key=", "https://h.example/v1?token=x"):
        assert problems(model_entry(base_url=url)) == [
            ("models.gpt.config_list[0].base_url: must not hold credentials in its query (key=, token=, ...): give the key as "
            "api_key: {env: NAME}")], url
    assert problems(model_entry(base_url="http://[::1")) == ["models.gpt.config_list[0].base_url: is not a valid URL"]
    assert valid(model_entry()).models["gpt"].config_list[0].base_url is None


def test_a_key_only_by_reference():
    for key in ("sk-secret-123", ""):
        assert problems(model_entry(api_key=key)) == [
            ("models.gpt.config_list[0].api_key: a literal API key can't be in a spec: write api_key: {env: NAME} "
            "or use an OAI_CONFIG_LIST reference")]
    assert valid(model_entry(api_key={"env": "MY_KEY"})).models["gpt"].config_list[0].api_key.env == "MY_KEY"
    assert doc.refuse_literal_key(None) is None and doc.refuse_literal_key({"env": "K"}) == {"env": "K"}


def test_a_config_list_is_a_reference_or_a_list():
    for value, kind in ((3, "int"), ("OAI_CONFIG_LIST", "str"), (None, "NoneType"), (True, "bool")):
        assert problems(base(models={"gpt": {"config_list": value}})) == [
            ("models.gpt.config_list: must be a reference {env_or_file: OAI_CONFIG_LIST, filter_dict: {...}} or a list of "
            f"entries, got {kind}")]
    valid(base(models={"gpt": {"config_list": {"env_or_file": "MY_LIST"}}}))
    valid(base(models={"gpt": {"config_list": []}}))


def test_temperatures_and_prices_are_finite_numbers():
    model = {"config_list": [{"model": "gpt-4o", "price": [0.01, 0.03]}], "temperature": 0.5, "top_p": 1}
    spec = valid(base(models={"gpt": model}))
    assert dump(spec)["models"]["gpt"] == model
    for field, value in (("temperature", float("nan")), ("top_p", float("inf")), ("temperature", float("-inf"))):
        (issue,) = problems(base(models={"gpt": {**model, field: value}}))
        assert issue.startswith(f"models.gpt.{field}: Input should be a finite number"), issue
    (issue,) = problems(base(models={"gpt": {"config_list": [{"model": "m", "price": [1, float("inf")]}]}}))
    assert issue.startswith("models.gpt.config_list[0].price[1]: Input should be a finite number"), issue


def test_kinds_of_values_are_named_without_the_value():
    assert [doc._kind(v) for v in ({}, [], "x", True, None, 3, 2.5)] == [
        "a mapping", "a list", "a string", "true or false", "null", "a int", "a float"]


def test_import_paths():
    for path in ("m:f", "pkg.mod:Class.method", "_p._q:_f", "a1.b2:c3"):
        assert doc.check_import_path(path) == path
    for path in ("m", "m:", ":f", "m:f:g", "1m:f", "m.:f", "m:f.", "m:f()", "m :f", 3, None, "lambda m: True"):
        with pytest.raises(ValueError) as caught:
            doc.check_import_path(path)
        assert str(caught.value) == "must be an import path 'module:function' (like 'mypkg.tools:search')", path


def test_termination_has_exactly_one_test():
    for test in ({"ends_with": "X"}, {"contains": "X"}, {"equals": ""}, {"function": "m:f"}):
        assert valid(with_agent(is_termination_msg=test)).agents["a"].is_termination_msg is not None
    for test, given in (({}, "none"), ({"ends_with": "X", "contains": "Y"}, "['ends_with', 'contains']"),
                        ({"equals": "X", "function": "m:f"}, "['equals', 'function']"),
                        ({"ends_with": "a", "contains": "b", "equals": "c", "function": "m:f"},
                         "['ends_with', 'contains', 'equals', 'function']")):
        assert problems(with_agent(is_termination_msg=test)) == [
            f"agents.a.is_termination_msg: must have exactly one of ends_with, contains, equals, function; got {given}"]
    assert problems(with_agent(is_termination_msg={"function": "done"})) == [
        "agents.a.is_termination_msg: must be an import path 'module:function' (like 'mypkg.tools:search')"]


def code(config) -> dict:
    return with_agent(code_execution_config=config)


def test_use_docker_is_a_boolean_or_image_names():
    for value in (True, False, None, "python:3.11", ["python:3.11", "ubuntu"], "falsey-image"):
        assert valid(code({"use_docker": value})).agents["a"].code_execution_config.use_docker == value
    for value in ("false", "False", " no ", "OFF", "0", "true", "Yes", "on", "1", "", "  "):
        assert problems(code({"use_docker": value})) == [
            (f"agents.a.code_execution_config.use_docker: must be true, false or an image name; {value!a} is a string "
            "(an image name): write false (no quotes) to run code unsandboxed on this machine, or true for Docker")], value
    for value, kind in ((3, "a int"), ([], "a list"), (["a", 1], "a list"), ({"image": "x"}, "a mapping"), (1.5, "a float")):
        assert problems(code({"use_docker": value})) == [
            f"agents.a.code_execution_config.use_docker: must be true, false, an image name or a list of image names, got {kind}"]


@pytest.mark.parametrize("config, unsandboxed", [
    ({}, False), ({"use_docker": False}, True), ({"use_docker": True}, False), ({"use_docker": "img"}, False),
    ({"executor": "local"}, True), ({"executor": "jupyter"}, True), ({"executor": "sandbox"}, False),
    ({"executor": "docker"}, False), ({"use_docker": True, "executor": "local"}, True),
    ({"use_docker": False, "executor": "sandbox"}, True),
])
def test_what_runs_unsandboxed(config, unsandboxed):
    assert CodeExecutionSpec.model_validate(config).unsandboxed is unsandboxed


def test_llm_config_and_code_execution_config_shapes():
    for value in ("gpt", False, None):
        valid(with_agent(llm_config=value) | ({"models": {"gpt": {"config_list": []}}} if value else {}))
    for value, kind in ((True, "true or false"), ({"config_list": []}, "a mapping"), (3, "a int"), ([], "a list")):
        assert problems(with_agent(llm_config=value)) == [
            f"agents.a.llm_config: must be the name of a model under models, or false, got {kind}"]
    for value in (False, None, {}, {"work_dir": "w"}):
        valid(code(value))
    for value, kind in ((True, "true or false"), ("yes", "a string"), ([], "a list"), (0, "a int")):
        assert problems(code(value)) == [
            f"agents.a.code_execution_config: must be a mapping (work_dir, use_docker, ...) or false, got {kind}"]


def placed(resources) -> dict:
    return with_agent(human_input_mode="NEVER", placement={"resources": resources})


def test_placement_resources():
    for resources in ({"gpu_box": 1}, {"a.b:c-d_e": 0.5, "x": 2}, {"r" * 100: 1e300}):
        assert valid(placed(resources)).agents["a"].placement.resources == resources
    where = "agents.a.placement.resources"
    for value, kind in (([], "a list"), ("gpu_box", "a string"), (None, "null")):
        assert problems(placed(value)) == [
            f"{where}: must be a mapping of Ray resource names to amounts, e.g. {{gpu_box: 1}}, got {kind}"]
    for name, shown in (("a b", "'a b'"), ("", "''"), ("r" * 101, repr("r" * 101)[:60]), ("é", "'\\xe9'")):
        assert problems(placed({name: 1})) == [f"{where}: resource name {shown} must be letters, digits, '_', '-', '.' or ':'"]
    for name in ("CPU", "GPU", "memory", "object_store_memory"):
        assert problems(placed({"ok": 1, name: 1})) == [
            (f"{where}: {name} is not a custom resource: a placed agent reserves no CPU (num_cpus=0), and GPUs are asked "
            "with num_gpus")]
    for amount, shown in ((0, "0"), (-1, "-1"), (float("inf"), "inf"), (float("nan"), "nan"), (True, "True"),
                          ("1", "'1'"), (None, "None"), ([1], "[1]"), ("x" * 100, repr("x" * 100)[:60])):
        assert problems(placed({"gpu_box": amount})) == [f"{where}: resources.gpu_box must be a positive number, got {shown}"]
    assert problems(placed({})) == [f"{where}: must have at least 1 item(s), got a mapping"]


def test_a_resource_name_that_is_not_a_string():
    with pytest.raises(ValueError, match=r"^resource name 3 must be letters"):
        doc.check_resources({3: 1})


def retrieval(**config) -> dict:
    return with_agent(**{"class": "RetrieveUserProxyAgent", "retrieve_config": config})


def test_retrieval_documents_and_functions():
    assert valid(retrieval(docs_path=["a.md"])).agents["a"].retrieve_config.docs_path == ["a.md"]
    assert valid(retrieval(docs_path="a.md")).agents["a"].retrieve_config.docs_path == "a.md"
    assert problems(retrieval(docs_path=[])) == [
        "agents.a.retrieve_config.docs_path: must name at least one file, folder or URL (or leave docs_path out)"]
    assert doc.check_docs_path(None) is None
    for field in ("embedding_function", "custom_token_count_function", "custom_text_split_function"):
        assert problems(retrieval(**{field: "not a path"})) == [
            f"agents.a.retrieve_config.{field}: must be an import path 'module:function' (like 'mypkg.tools:search')"]
        assert getattr(valid(retrieval(**{field: "m:f"})).agents["a"].retrieve_config, field) == "m:f"


def test_the_paths_a_retrieval_config_uses():
    paths = RetrieveConfigSpec.model_validate
    assert paths({}).paths() == []
    assert paths({"docs_path": "a.md"}).paths() == [("docs_path", "a.md")]
    assert paths({"docs_path": ["a", "b"], "db_config": {"path": "index"}}).paths() == [
        ("docs_path", "a"), ("docs_path", "b"), ("db_config.path", "index")]
    assert paths({"db_config": {}}).paths() == []
    assert paths({"db_config": {"path": "i"}}).paths() == [("db_config.path", "i")]


def test_retrieve_config_and_teachability_belong_to_some_agents():
    for kind in ("ConversableAgent", "AssistantAgent", "UserProxyAgent", "RetrieveAssistantAgent"):
        assert problems(with_agent(**{"class": kind, "retrieve_config": {}})) == [
            f"agents.a: retrieve_config is for class RetrieveUserProxyAgent only (this agent is a {kind})"]
    valid(retrieval())
    assert problems(with_agent(llm_config=False, teachability={})) == [
        "agents.a: teachability needs the agent's model (its analyzer uses it): this agent has llm_config: false"]
    for llm_config in (None, "gpt"):
        valid(with_agent(llm_config=llm_config, teachability={}) | {"models": {"gpt": {"config_list": []}}})
    valid(with_agent(llm_config=False))


def group(**options) -> dict:
    return base(agents={"a": {}, "b": {}, "m": {"class": "GroupChatManager", "groupchat": "g"}},
                group_chats={"g": {"agents": ["a", "b"], **options}}, run={"initiator": "a", "recipient": "m"})


def test_speaker_selection_methods():
    for method in ("auto", "manual", "random", "round_robin", "mypkg.sel:pick"):
        assert valid(group(speaker_selection_method=method)).group_chats["g"].speaker_selection_method == method
    assert doc.check_speaker_method(None) is None
    for method, shown in (("best", "'best'"), ("Auto", "'Auto'"), ("pick", "'pick'"), ("é" * 70, ascii("é" * 70)[:60]),
                          ("m:", "'m:'")):
        assert problems(group(speaker_selection_method=method)) == [
            ("group_chats.g.speaker_selection_method: must be one of auto, manual, random, round_robin or an import path "
            f"'module:function', got {shown}")]


def test_transitions_and_their_type_go_together():
    transitions = {"a": ["b"], "b": ["a"]}
    valid(group(allowed_or_disallowed_speaker_transitions=transitions, speaker_transitions_type="disallowed"))
    valid(group())
    message = [("group_chats.g: allowed_or_disallowed_speaker_transitions and speaker_transitions_type go together: "
               "give both or neither")]
    assert problems(group(allowed_or_disallowed_speaker_transitions=transitions)) == message
    assert problems(group(speaker_transitions_type="allowed")) == message


def test_a_run_is_one_chat_or_a_queue():
    assert valid(base()).run.recipient == "b"
    assert valid(base(run={"initiator": "a", "chats": [{"recipient": "b"}]})).run.chats[0].recipient == "b"
    for run in ({"initiator": "a"}, {"initiator": "a", "recipient": "b", "chats": [{"recipient": "b"}]}):
        assert problems(base(run=run)) == [
            "run: give either recipient (one chat) or chats (sequential chats), not both or neither"]
    assert problems(base(run={"initiator": "a", "chats": []})) == ["run: chats must list at least one chat"]


def test_dump_gives_what_was_written():
    document = base(name="t", agents={"a": {"class": "AssistantAgent", "code_execution_config": False}, "b": {}})
    assert dump(valid(document)) == document


def test_dump_gives_json_data():
    # A filter_dict holds any YAML value: a date (YAML reads 2024-05-01 as one) is dumped as its text.
    models = {"gpt": {"config_list": {"filter_dict": {"tags": [datetime.date(2024, 5, 1)]}}}}
    assert dump(valid(base(models=models)))["models"]["gpt"]["config_list"] == {"filter_dict": {"tags": ["2024-05-01"]}}
