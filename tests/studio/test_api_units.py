"""The Studio's rules as functions: settings (loopback, token), the Origin check, password
hashing, the browser-spec policy (no server required)."""

from __future__ import annotations

import pytest

from parley.spec import SpecError, gallery
from parley.studio.auth import origin_allowed
from parley.studio.policy import studio_team
from parley.studio.settings import SettingsError, StudioSettings, is_loopback
from parley.studio.users import LoginFailures, hash_password, verify_password


@pytest.fixture(autouse=True)
def _no_token_in_env(monkeypatch):
    monkeypatch.delenv("PARLEY_STUDIO_TOKEN", raising=False)


def test_loopback_names():
    assert all(map(is_loopback, ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "example.com", "127.0.0.1.example.com"]))


def test_the_token(monkeypatch):
    first, second = StudioSettings(), StudioSettings()
    assert len(first.token) >= 24 and first.token != second.token and not first.token_given  # random per launch
    with pytest.raises(SettingsError, match="without a token"):
        StudioSettings(host="0.0.0.0")
    with pytest.raises(SettingsError, match="at least 16"):
        StudioSettings(token="short")
    monkeypatch.setenv("PARLEY_STUDIO_TOKEN", "from-the-environment-0123")
    public = StudioSettings(host="0.0.0.0")
    assert public.token == "from-the-environment-0123" and public.url() == "http://127.0.0.1:8081/?token=from-the-environment-0123"
    assert StudioSettings(token="given-on-the-command-line").token == "given-on-the-command-line"


def test_origins():
    local = StudioSettings(port=9000)
    assert origin_allowed(local, None, "127.0.0.1:9000")  # not a browser page
    for origin in ("http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"):
        assert origin_allowed(local, origin, "127.0.0.1:9000"), origin
    for origin in ("http://127.0.0.1:9001", "http://evil.example", "null", "http://localhost:9000.evil.example",
                   "https://evil.example:9000"):
        assert not origin_allowed(local, origin, "127.0.0.1:9000"), origin
    # DNS rebinding: the page's own name in Host is no help on a loopback server.
    assert not origin_allowed(local, "http://rebound.example:9000", "rebound.example:9000")
    proxied = StudioSettings(port=9000, allow_origins=("https://studio.example",))
    assert origin_allowed(proxied, "https://studio.example", "127.0.0.1:9000")
    public = StudioSettings(host="0.0.0.0", port=9000, token="a-token-of-enough-length")
    assert origin_allowed(public, "http://box.lan:9000", "box.lan:9000")
    assert not origin_allowed(public, "http://evil.example", "box.lan:9000")


def test_password_hashes():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored
    assert stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored) and not verify_password("", stored)
    assert not verify_password("correct horse", "plain$text") and not verify_password("x", "scrypt$bad")


def test_login_failures_are_per_name_and_pass():
    a, b = ("a", "127.0.0.1"), ("b", "127.0.0.1")
    failures = LoginFailures(limit=2, window_s=0.0)
    failures.failed(a)
    failures.failed(a)
    assert not failures.blocked(a)  # a window of 0 s: nothing is recent
    failures = LoginFailures(limit=2, window_s=60.0)
    failures.failed(a)
    assert not failures.blocked(a)
    failures.failed(a)
    assert failures.blocked(a) and not failures.blocked(b)
    assert not failures.blocked(("a", "10.0.0.2"))  # the same name from another address: not locked out
    failures.clear(a)
    assert not failures.blocked(a)


def test_the_failure_table_is_capped():
    failures = LoginFailures(limit=2, window_s=60.0, max_keys=100)
    failures.failed(("alice", "10.0.0.1"))
    failures.failed(("alice", "10.0.0.1"))
    for n in range(1000):
        failures.failed((f"name{n}", "10.0.0.9"))
    assert len(failures) == 100  # the oldest pairs went
    assert failures.blocked(("name999", "10.0.0.9")) is False and len(failures) == 100


def test_the_sandbox_replaces_unsandboxed_execution_unless_allowed():
    research = gallery.load("research").to_dict()
    team, notes = studio_team(research, allow_unsandboxed=False)
    config = team.to_dict()["agents"]["Executor"]["code_execution_config"]
    assert config == {"work_dir": "paper", "last_n_messages": 3, "executor": "sandbox"}
    assert notes == [("agents.Executor.code_execution_config: the spec asks for unsandboxed execution, which this server "
                     "does not allow (start it with --allow-unsandboxed): code runs in the sandbox")]
    team, notes = studio_team(research, allow_unsandboxed=True)
    assert team.to_dict()["agents"]["Executor"]["code_execution_config"]["use_docker"] is False
    local = {**research, "agents": {**research["agents"], "Executor": {
        **research["agents"]["Executor"], "code_execution_config": {"executor": "local"}}}}
    assert studio_team(local, allow_unsandboxed=False)[0].to_dict()["agents"]["Executor"]["code_execution_config"] == \
        {"executor": "sandbox"}
    assert studio_team(gallery.load("sequential").to_dict(), allow_unsandboxed=False)[1] == []


def test_allowed_modules_come_from_the_server_only():
    spec = gallery.load("tools").to_dict()
    studio_team(spec, allow_unsandboxed=False)  # parley.spec.tools: always allowed
    (tool,) = spec["tools"].values()
    tool["function"] = "json:dumps"
    with pytest.raises(SpecError) as refused:
        studio_team(spec, allow_unsandboxed=False)
    assert [issue.path for issue in refused.value.issues] == ["tools.calculator.function"]
    studio_team(spec, allow_unsandboxed=False, allow_modules=("json",))
    with pytest.raises(SpecError, match="must be a JSON object"):
        studio_team(["not", "a", "spec"], allow_unsandboxed=False)


def test_a_browser_spec_filters_the_server_s_models_only_by_public_fields():
    research = gallery.load("research").to_dict()
    for key in ("model", "tags", "api_type"):
        spec = {**research, "models": {"gpt4o": {"config_list": {"env_or_file": "OAI_CONFIG_LIST", "filter_dict": {key: "x"}}}}}
        studio_team(spec, allow_unsandboxed=False)
    for key in ("api_key", "base_url", "api_version"):
        spec = {**research, "models": {"gpt4o": {"config_list": {"env_or_file": "OAI_CONFIG_LIST",
                                                             "filter_dict": {key: "sk-guess-0123"}}}}}
        with pytest.raises(SpecError) as refused:
            studio_team(spec, allow_unsandboxed=False)
        assert f"models.gpt4o.config_list.filter_dict.{key}" in str(refused.value)
        assert "sk-guess" not in str(refused.value)


def test_a_filter_that_matches_nothing_is_logged_without_hidden_values():
    from parley.models.config import _shown

    shown = _shown({"model": "gpt-4o", "api_key": "sk-guess-0123", "base_url": "http://user:pw@host"})
    assert "'gpt-4o'" in shown and "sk-guess" not in shown and "pw@" not in shown and "'api_key': ***" in shown
