import json
import sys

import pytest

from parley import events
from parley.models.config import (
    config_list_from_json,
    config_list_from_models,
    filter_config,
    get_config_list,
)
from parley.models.protocol import ModelConfigError
from parley.models.wrapper import OpenAIWrapper

ENTRIES = [
    {"model": "gpt-4o-mini", "api_key": "k1", "tags": ["cheap", "fast"]},
    {"model": "gpt-4o", "api_key": "k2", "tags": ["smart"]},
    {"model": "claude-3-5-sonnet", "api_key": "k3", "api_type": "anthropic"},
]


def test_env_var_holding_json(monkeypatch):
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps(ENTRIES))
    assert config_list_from_json("OAI_CONFIG_LIST") == ENTRIES


def test_seed_call_filters_by_model(monkeypatch):
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps(ENTRIES))
    assert config_list_from_json(env_or_file="OAI_CONFIG_LIST", filter_dict={"model": "gpt-4o-mini"}) == [ENTRIES[0]]


def test_env_var_holding_a_path(monkeypatch, tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps(ENTRIES))
    monkeypatch.setenv("MY_LIST", str(path))
    assert config_list_from_json("MY_LIST") == ENTRIES


def test_file_in_file_location(monkeypatch, tmp_path):
    monkeypatch.delenv("OAI_CONFIG_LIST", raising=False)
    (tmp_path / "OAI_CONFIG_LIST").write_text(json.dumps(ENTRIES))
    assert config_list_from_json("OAI_CONFIG_LIST", file_location=str(tmp_path)) == ENTRIES


def test_missing_everywhere_gives_the_offline_model_and_a_notice(monkeypatch, tmp_path):
    monkeypatch.delenv("OAI_CONFIG_LIST", raising=False)
    monkeypatch.chdir(tmp_path)
    with events.capture(kinds=(events.Notice,)) as captured:
        config_list = config_list_from_json("OAI_CONFIG_LIST", filter_dict={"model": "gpt-4o-mini"})
    assert config_list == [{"model": "smollm2-135m", "api_type": "local"}]
    assert "OAI_CONFIG_LIST not found" in captured.events[0].text
    assert "SmolLM2-135M" in captured.events[0].text


def test_malformed_json_in_variable_names_it_and_the_position(monkeypatch):
    monkeypatch.setenv("OAI_CONFIG_LIST", '[{"model": "gpt-4o",}]')
    with pytest.raises(ModelConfigError) as error:
        config_list_from_json("OAI_CONFIG_LIST")
    assert "environment variable OAI_CONFIG_LIST" in str(error.value)
    assert "line 1, column 21" in str(error.value)


def test_malformed_json_in_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "OAI_CONFIG_LIST"
    path.write_text('[\n  {"model": "gpt-4o"}\n  {"model": "x"}\n]')
    with pytest.raises(ModelConfigError) as error:
        config_list_from_json("OAI_CONFIG_LIST", file_location=str(tmp_path))
    assert str(path) in str(error.value)
    assert "line 3" in str(error.value)


@pytest.mark.parametrize("value, kind", [('{"model": "gpt-4o", "api_key": "k"}', "object"), ('  "gpt-4o"', None), ("42", None)])
def test_variable_holding_json_that_is_not_a_list_is_an_error_not_a_file_name(monkeypatch, value, kind):
    monkeypatch.setenv("OAI_CONFIG_LIST", value)
    if kind is None:  # not JSON-looking: taken for a file name, as classic does
        with pytest.raises(ModelConfigError, match="neither a JSON config list nor the path of an existing file") as error:
            config_list_from_json("OAI_CONFIG_LIST")
        assert value.strip() not in str(error.value)
        return
    with pytest.raises(ModelConfigError, match=r"environment variable OAI_CONFIG_LIST must hold a JSON list of config entries, "
                                               r"not a JSON object \(put a single entry in a list: \[\{\.\.\.\}\]\)"):
        config_list_from_json("OAI_CONFIG_LIST")


def test_explicit_empty_list_is_an_error(monkeypatch):
    monkeypatch.setenv("OAI_CONFIG_LIST", "[]")
    with pytest.raises(ModelConfigError, match="empty list"):
        config_list_from_json("OAI_CONFIG_LIST")


def test_variable_naming_a_missing_file_is_named_but_its_value_never_shown(monkeypatch):
    # The value may be a secret (a variable named by mistake, or by a spec: env_or_file: AWS_SECRET_ACCESS_KEY).
    monkeypatch.setenv("OAI_CONFIG_LIST", "/nonexistent/list.json")
    with pytest.raises(ModelConfigError, match="environment variable OAI_CONFIG_LIST is neither a JSON config list nor the path") as error:
        config_list_from_json("OAI_CONFIG_LIST")
    assert "/nonexistent/list.json" not in str(error.value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(ModelConfigError) as error:
        config_list_from_json("AWS_SECRET_ACCESS_KEY")
    assert "wJalrXUtnFEMI" not in str(error.value)


def test_filter_matching_nothing_returns_empty_and_lists_available_models(monkeypatch):
    # Classic returns []; the warning says which models there are (and no keys).
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps(ENTRIES))
    with events.capture(kinds=(events.Notice,)) as captured:
        assert config_list_from_json("OAI_CONFIG_LIST", filter_dict={"model": ["gpt-5"]}) == []
    notices = [e.text for e in captured.events]
    assert any("claude-3-5-sonnet, gpt-4o, gpt-4o-mini" in text for text in notices)
    assert not any("k1" in text for text in notices)


def test_filter_config_semantics():
    assert filter_config(ENTRIES, {"model": ["gpt-4o", "gpt-4o-mini"]}) == ENTRIES[:2]
    assert filter_config(ENTRIES, {"tags": ["fast"]}) == [ENTRIES[0]]
    assert filter_config(ENTRIES, {"api_type": [None]}) == ENTRIES[:2]
    assert filter_config(ENTRIES, {"model": "gpt-4o"}) == [ENTRIES[1]]  # a scalar is one value, not a substring test
    assert filter_config(ENTRIES, {"model": ["gpt-4o"]}, exclude=True) == [ENTRIES[0], ENTRIES[2]]
    assert filter_config(ENTRIES, None) == ENTRIES


def test_get_config_list_and_models(monkeypatch, tmp_path):
    assert get_config_list(["a", "b"], ["u1", "u2"], api_type="azure", api_version="v") == [
        {"api_key": "a", "base_url": "u1", "api_type": "azure", "api_version": "v"},
        {"api_key": "b", "base_url": "u2", "api_type": "azure", "api_version": "v"},
    ]
    with pytest.raises(ModelConfigError, match="^The length of api_keys must match the length of base_urls$") as info:
        get_config_list(["a", "b"], ["u1"])
    assert isinstance(info.value, AssertionError)  # classic asserted
    with pytest.raises(ModelConfigError, match="api_keys"):
        get_config_list([])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert config_list_from_models(key_file_path=str(tmp_path), model_list=["gpt-4o", "gpt-4o-mini"]) == [
        {"api_key": "sk-x", "model": "gpt-4o"},
        {"api_key": "sk-x", "model": "gpt-4o-mini"},
    ]


def test_config_list_from_dotenv(monkeypatch, tmp_path, caplog):
    from parley.models.config import config_list_from_dotenv

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MY_CLAUDE_KEY", raising=False)
    env = tmp_path / ".env"
    env.write_text("OPENAI_API_KEY=sk-from-dotenv\nMY_CLAUDE_KEY=ant-key\n")
    try:
        config_list = config_list_from_dotenv(str(env), {
            "gpt-4o": "OPENAI_API_KEY",
            "claude-3-5-sonnet": {"api_key_env_var": "MY_CLAUDE_KEY", "api_type": "anthropic"},
            "gpt-x": "UNSET_VARIABLE_FOR_TEST",
        })
    finally:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.delenv("MY_CLAUDE_KEY", raising=False)
    assert config_list == [
        {"model": "gpt-4o", "api_key": "sk-from-dotenv"},
        {"model": "claude-3-5-sonnet", "api_key": "ant-key", "api_type": "anthropic"},
    ]
    assert "API key not found or empty for model gpt-x." in caplog.text
    monkeypatch.chdir(tmp_path / "..")  # no .env here or above
    with caplog.at_level("WARNING"):
        assert config_list_from_dotenv(str(tmp_path / "missing.env"), {"gpt-x": "UNSET_VARIABLE_FOR_TEST"}) == []
    assert f"The specified .env file {tmp_path / 'missing.env'} does not exist." in caplog.text
    assert "No configurations loaded." in caplog.text
    monkeypatch.chdir(tmp_path)  # the .env here is found and loaded
    monkeypatch.setenv("OPENAI_API_KEY", "unset-at-teardown")  # so that monkeypatch removes what load_dotenv sets
    monkeypatch.delenv("OPENAI_API_KEY")
    assert config_list_from_dotenv(None, {"gpt-4o": "OPENAI_API_KEY"}) == [{"model": "gpt-4o", "api_key": "sk-from-dotenv"}]


@pytest.mark.parametrize("api_type, sdk", [("anthropic", "anthropic"), ("openai", "openai"), ("azure", "openai")])
def test_an_entry_whose_provider_sdk_is_missing_names_the_extra_to_install(monkeypatch, api_type, sdk):
    monkeypatch.setitem(sys.modules, sdk, None)  # how the import system marks a module as unavailable
    entry = {"model": "m", "api_key": "k", "api_type": api_type, "base_url": "http://127.0.0.1:9", "api_version": "2024-06-01"}
    wrapper = OpenAIWrapper(config_list=[entry])  # a missing package is reported when a request is made
    with pytest.raises(ModelConfigError, match=rf"model 'm' .* needs the {sdk} SDK, which is not installed: pip install 'parley\[{sdk}\]'"):
        wrapper.create(messages=[{"role": "user", "content": "hi"}])


def test_bad_legacy_functions_name_the_field():
    entry = {"model": "s", "api_type": "scripted", "replies": ["x"]}
    with pytest.raises(ModelConfigError, match=r"llm_config\['functions'\] must be a list of function schemas"):
        OpenAIWrapper(config_list=[entry], functions=[{"description": "no name"}])


@pytest.mark.parametrize("field, message", [
    ("temprature", "did you mean 'temperature'"),
    ("max_token", "did you mean 'max_tokens'"),
    ("apikey", "did you mean 'api_key'"),
    ("token", "looks like a credential"),
    ("openai_api_key", "looks like a credential"),
])
def test_misspelled_or_credential_named_fields_are_refused_before_anything_is_sent(field, message):
    # Classic failed at the request (TypeError); sending them would put a key in the request body.
    entry = {"model": "gpt-4o-mini", "api_key": "sk-placeholder-123456789", field: "0.5" if "temp" in field else "hunter2-horse"}
    for llm_config in ({"config_list": [entry]}, {**entry}):
        with pytest.raises(ModelConfigError, match=rf"\['{field}'\].*{message}") as raised:
            OpenAIWrapper(**llm_config)
        assert "hunter2-horse" not in str(raised.value)


def test_server_specific_and_known_fields_still_pass():
    entry = {"model": "m", "api_key": "sk-placeholder-123456789", "base_url": "http://127.0.0.1:1/v1",
             "top_k": 5, "repetition_penalty": 1.1, "prompt_cache_key": "team-a", "max_tokens": 10, "seed": 3}
    OpenAIWrapper(config_list=[entry])


def test_a_credential_under_any_field_name_is_redacted():
    from parley.models.secrets import config_secrets

    assert "hunter2-horse-battery" in config_secrets({"model": "m", "openai_token": "hunter2-horse-battery", "max_tokens": 9})
