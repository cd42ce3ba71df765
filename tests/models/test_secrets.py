"""No key, in any place a config can carry one, reaches a log, a store, an export, a cache, an
error text or the terminal.

Every key is made fresh for its test (no earlier client can have handed it to redaction), and most
are shaped so that no key-shaped pattern catches them (32 hex digits as Azure issues, arbitrary
strings): only handing the literal value to redaction removes them. The fake servers echo each
request's path, query string and headers in their error messages, as some gateways do.
"""

from __future__ import annotations

import base64
import logging
import secrets as tokens
import traceback
import urllib.parse

import pytest

from parley import AssistantAgent, UserProxyAgent, events, runtime_logging
from parley.cli import main as parley_cli
from parley.io.console import console_sink
from parley.models.protocol import ModelError
from parley.models.secrets import (
    config_secrets,
    redact,
    redact_config,
    redact_url,
    remember,
)
from parley.models.wrapper import OpenAIWrapper
from parley.store import RunStore

HI = [{"role": "user", "content": "hi"}]

# Key shapes providers issue, and keys no pattern could recognise.
KEY_SHAPES = {
    "openai-project": lambda: "sk-proj-" + tokens.token_hex(24) + "T3BlbkFJ" + tokens.token_hex(12),
    "azure-hex": lambda: tokens.token_hex(16),
    "anthropic": lambda: "sk-ant-api03-" + tokens.token_urlsafe(60) + "-" + tokens.token_hex(4) + "AA",
    "arbitrary": lambda: f"hunter2-correct-horse-{tokens.token_hex(3)}",
}


def arbitrary() -> str:
    return f"battery-staple-{tokens.token_hex(4)}"


def sas_signature() -> str:
    """An Azure SAS-style signature: base64, so percent-encoded in a URL."""
    return f"{tokens.token_hex(12)}+/{tokens.token_hex(4)}="


def forms(key: str) -> list[bytes]:
    """The ways a key could be written: as is, percent-encoded, inside a Basic header's base64."""
    texts = {key, urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key)}
    encoded = {text.encode() for text in texts}
    encoded |= {base64.b64encode(f"{user}:{key}".encode()) for user in ("gateway", "")}
    return sorted(encoded)


def planted_entries(provider: str, server, shape: str) -> tuple[list[dict], dict[str, str]]:
    """Two config entries with a distinct key in every position an entry can carry one: the
    first in its URL (user-info, query string) and default_query, the second in api_key,
    default_headers, extra_headers and extra_query. Failing calls fail over from one to the other."""
    keys: dict[str, str] = {}

    def plant(position: str, make=arbitrary) -> str:
        keys[position] = value = make()
        return value

    if provider == "azure":
        base = server.azure_endpoint
        common = {"model": "gpt-4o", "api_type": "azure", "api_version": "2024-06-01"}
    elif provider == "anthropic":
        base = server.base_url
        common = {"model": "claude-3-5-haiku-latest", "api_type": "anthropic"}
    else:
        base = server.base_url
        common = {"model": "gpt-4o-mini", "api_type": "openai"}
    host = urllib.parse.urlsplit(base)
    in_url = {
        **common, "max_retries": 1,
        "api_key": plant("api_key beside user-info", KEY_SHAPES[shape]),
        "base_url": urllib.parse.urlunsplit((
            host.scheme, f"gateway:{plant('base_url user-info')}@{host.netloc}", host.path,
            f"code={plant('base_url query code')}&api-key={plant('base_url query api-key', tokens.token_hex)}", "",
        )),
        "default_query": {"sig": plant("default_query sig", sas_signature)},
    }
    in_fields = {
        **common, "base_url": base, "max_retries": 1,
        "api_key": plant("api_key", KEY_SHAPES[shape]),
        "default_headers": {"X-Gateway-Token": plant("default_headers token"), "api-key" if provider != "azure" else "X-Api-Key":
                            plant("default_headers api-key", tokens.token_hex)},
        "extra_headers": {"Proxy-Authorization": f"Bearer {plant('extra_headers bearer')}", "Cookie": f"session={plant('extra_headers cookie')}",
                          "X-Client-Secret": plant("extra_headers secret", lambda: tokens.token_hex(16))},
        "extra_query": {"key": plant("extra_query key", lambda: tokens.token_hex(16)), "access_token": plant("extra_query token"),
                        "signature": plant("extra_query signature", sas_signature)},
    }
    return [in_url, in_fields], keys


@pytest.mark.parametrize("shape", sorted(KEY_SHAPES))
@pytest.mark.parametrize("provider", ["openai", "azure", "anthropic"])
def test_no_planted_key_reaches_anything_a_run_writes(provider, shape, openai_server, anthropic_server, tmp_path, monkeypatch,
                                                      capfd, caplog, waits):
    server = anthropic_server if provider == "anthropic" else openai_server
    config_list, keys = planted_entries(provider, server, shape)
    monkeypatch.chdir(tmp_path)  # the disk cache (cache_seed) lands here too
    monkeypatch.setattr(console_sink, "enabled", True)  # what a user's terminal shows
    caplog.set_level(logging.DEBUG)  # the SDKs log request options and URLs at debug level
    python_log = logging.FileHandler(tmp_path / "python.log")
    python_log.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(python_log)

    texts: list[str] = []  # error texts and the like, written nowhere
    try:
        session = runtime_logging.start(logger_type="sqlite", config={"dbname": str(tmp_path / "runtime.db")})
        file_log = runtime_logging.FileLogger(str(tmp_path / "runtime.log"), session)
        events.default_stream.add_sink(file_log)
        with RunStore(tmp_path / "runs.db") as store, events.capture() as captured:
            user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
            assistant = AssistantAgent("assistant", llm_config={"config_list": config_list, "cache_seed": 7})
            # A chat that recovers: the first request gets an echoing 500, the retry an answer.
            server.default = {"content": "Glad to help. TERMINATE"}
            server.add({"status": 500, "echo": True, "error": "upstream failed"})
            result = user.initiate_chat(assistant, message="Please help.", max_turns=1)
            assert result.chat_history[-1]["content"] == "Glad to help. TERMINATE"
            # A chat that fails: every request gets an echoing 401.
            # (OpenAI's 401 used to quote the key; a bearer token in the echo is masked by its shape alone.)
            wrong = f"Incorrect API key provided: {keys['api_key']} or {keys['api_key beside user-info']}"
            server.default = {"status": 401, "echo": True, "error": wrong}
            failing = AssistantAgent("failing", llm_config={"config_list": config_list})
            with pytest.raises(ModelError) as error:
                user.initiate_chat(failing, message="Again, please.", max_turns=1)
            texts += [str(error.value), "".join(traceback.format_exception(error.value))]
            # The classic create with stream on (a different path through the SDK).
            wrapper = OpenAIWrapper(config_list=config_list, stream=True)
            with pytest.raises(ModelError) as error:
                wrapper.create(messages=HI)
            texts += [str(error.value), "".join(traceback.format_exception(error.value)), repr(wrapper._clients)]
            run_ids = [run.id for run in store.list_runs()]
        texts += [repr(event) for event in captured.events]
        texts += [record.getMessage() for record in caplog.records]
    finally:
        events.default_stream.remove_sink(file_log)
        file_log.close()
        runtime_logging.stop()
        logging.getLogger().removeHandler(python_log)
        python_log.close()
    assert "HTTP 401" in texts[0] and len(run_ids) == 2 and waits  # the 500 was retried (its notice is logged)

    # Every position's key was sent: the check below is not vacuous.
    sent = " ".join(server.paths) + " " + " ".join(str(h) for h in server.headers)
    reached = {position for position, key in keys.items() if key in urllib.parse.unquote(sent)}
    unsent = set(keys) - reached - {"base_url user-info", "api_key beside user-info"}  # sent base64-encoded; replaced by Basic auth
    assert not unsent, f"keys never sent to the server: {sorted(unsent)}"

    # The store's export, through the command, to a file and to stdout.
    for store_path in (tmp_path / "runs.db", tmp_path / "runtime.db"):
        for run_id in RunStore(store_path).list_runs():
            assert parley_cli(["runs", "--store", str(store_path), "export", run_id.id, "--format", "json",
                               "-o", str(tmp_path / f"export-{run_id.id}.json")]) == 0
            assert parley_cli(["runs", "--store", str(store_path), "export", run_id.id, "--format", "md"]) == 0
    captured_output = capfd.readouterr()
    texts += [captured_output.out, captured_output.err]
    assert "Glad to help" in captured_output.out  # the terminal and the exports were captured

    written = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert {"runtime.db", "runs.db", "runtime.log", "python.log", "cache.db"} <= {p.name for p in written}
    assert b"upstream failed (request: POST" in written[tmp_path / "runtime.log"]  # an echoed error text was logged
    everything_said = "\n".join(texts).encode()
    for position, key in keys.items():
        for form in forms(key):
            assert form not in everything_said, f"the {position} key ({form!r}) is in an error text, a log record or the terminal"
            for path, data in written.items():
                assert form not in data, f"the {position} key ({form!r}) is in {path.relative_to(tmp_path)}"


def sent_key(headers: dict) -> str:
    """The key a request authenticated with (the Anthropic SDK sends x-api-key or a bearer token)."""
    return headers.get("x-api-key") or headers["authorization"].removeprefix("Bearer ")


def test_create_with_api_key_uses_it_as_auth_and_never_sends_it_in_the_body(openai_server, anthropic_server):
    for server, entry in (
        (openai_server, {"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": "entry-key-0001"}),
        (anthropic_server, {"model": "claude-3-5-haiku-latest", "api_type": "anthropic", "base_url": anthropic_server.base_url,
                            "api_key": "entry-key-0001"}),
    ):
        key = f"per-call-{tokens.token_hex(8)}"
        server.add({"content": "ok"}, {"status": 401, "echo": True})
        wrapper = OpenAIWrapper(config_list=[entry])
        assert wrapper.create(messages=HI, api_key=key, temperature=0.5).choices[0].message.content == "ok"
        body = server.requests[-1]
        assert "api_key" not in body and key not in repr(body) and body["temperature"] == 0.5
        assert sent_key(server.headers[-1]) == key
        with pytest.raises(ModelError) as error:  # and an echoed per-call key is redacted like any other
            wrapper.create(messages=HI, api_key=key)
        assert key not in str(error.value) and "HTTP 401" in str(error.value)
        assert sent_key(server.headers[-1]) == key
        # The entry's own key is back for calls without one.
        wrapper.create(messages=HI)
        assert sent_key(server.headers[-1]) == "entry-key-0001"
        server.reset()


def test_config_secrets_finds_every_position():
    entry = {
        "api_key": "the-api-key", "azure_ad_token": "the-ad-token",
        "default_headers": {"Authorization": "Bearer the-bearer", "X-Trace": "not-a-secret", "api-key": "the-header-key"},
        "extra_headers": {"Cookie": "the-cookie", "Proxy-Authorization": "Basic " + base64.b64encode(b"me:the-password").decode()},
        "extra_query": {"sig": "the+signature/=", "page": "not-secret-2", "code": ["the-code-1"]},
        "base_url": "https://me:the-userinfo@gw.example/v1?key=the%2Bquery&mode=not-secret-3",
        "azure_endpoint": "https://the-lone-user-token@gw.example",
    }
    found = set(config_secrets(entry))
    for secret in ("the-api-key", "the-ad-token", "Bearer the-bearer", "the-bearer", "the-header-key", "the-cookie",
                   "the-password", "the+signature/=", "the%2Bsignature%2F%3D", "the-code-1", "the-userinfo", "the+query", "the%2Bquery",
                   "the-lone-user-token"):
        assert secret in found, secret
    assert not any("not-" in value for value in found)


def test_placeholder_keys_of_local_servers_are_not_masked_everywhere():
    remember(["ollama", "no-key", "lm-studio"])
    assert redact("model llama3 at ollama (lm-studio also answers, no-key needed)") == "model llama3 at ollama (lm-studio also answers, no-key needed)"


def test_redaction_of_texts_urls_and_configs():
    assert redact("key abc: 0123456789abcdef0123456789abcdef", ["0123456789abcdef0123456789abcdef"]) == "key abc: ***"
    assert redact("no secret in here: model gpt-4o, api_version 2024-06-01") == "no secret in here: model gpt-4o, api_version 2024-06-01"
    assert redact("sent Authorization: Bearer abc.def-123456 ok") == "sent Authorization: Bearer *** ok"
    assert redact("Proxy-Authorization: Basic Z3c6cHctc2VjcmV0LTE=") == "Proxy-Authorization: Basic ***"
    assert redact("a Basic question, Token exceeded") == "a Basic question, Token exceeded"
    assert redact("GET https://u:p4ss@h.example/v1?x=1&api-key=zzz999&page=2") == "GET https://***@h.example/v1?x=1&api-key=***&page=2"
    assert redact("key sk-ant-api03-abcdefghijklmnop and sk-proj-abc4defghijklmnop") == "key *** and ***"
    assert redact("see the api-documentation-links") == "see the api-documentation-links"  # key-shaped means with a digit
    assert redact_url("https://u:p@h.example:8080/v1?token=t0k3n&q=ok") == "https://***@h.example:8080/v1?token=***&q=ok"
    assert redact_url("https://u:it's-me@h.example/v1") == "https://***@h.example/v1"  # a quote ends the text pattern's match
    shown = redact_config({"api_key": "k", "temperature": 0.5, "max_tokens": 9, "extra_headers": {"X-Api-Key": "k2", "X-Trace": "t"},
                           "extra_query": {"code": "c", "page": "2"}, "base_url": "http://u:p@h/v1"})
    assert shown == {"api_key": "***", "temperature": 0.5, "max_tokens": 9, "extra_headers": {"X-Api-Key": "***", "X-Trace": "t"},
                     "extra_query": {"code": "***", "page": "2"}, "base_url": "http://***@h/v1"}


def test_a_client_hands_its_own_key_to_redaction_whatever_its_shape(openai_server):
    # No pattern recognises 32 hex digits: only the client handing its key over removes it.
    key = tokens.token_hex(16)
    entry = {"model": "gpt-4o", "api_type": "azure", "api_version": "2024-06-01", "base_url": openai_server.azure_endpoint,
             "api_key": key, "max_retries": 0}
    openai_server.add({"status": 401, "error": f"Access denied due to invalid subscription key {key}."})
    with pytest.raises(ModelError, match="HTTP 401") as error:
        OpenAIWrapper(config_list=[entry]).create(messages=HI)
    assert openai_server.headers[-1]["api-key"] == key
    assert key not in str(error.value) and "invalid subscription key ***" in str(error.value)


@pytest.mark.parametrize("logger_type", ["sqlite", "file"])
def test_the_runtime_log_redacts_remembered_secrets_whatever_event_carries_them(logger_type, tmp_path):
    # The loggers' own net, below the redaction at the source: an event that a future producer
    # (or a model echoing its key) fills with a key a client was built with is written without it.
    key = tokens.token_hex(16)
    remember([key])
    config = {"dbname": str(tmp_path / "runtime.db")} if logger_type == "sqlite" else {"filename": str(tmp_path / "runtime.log")}
    runtime_logging.start(logger_type=logger_type, config=config)
    try:
        events.emit(events.Notice(text=f"gateway said: unknown key {key}", level="warning"))
        events.emit(events.ModelCallLogged(
            agent="a", model="m", messages=[{"role": "user", "content": f"my key is {key}"}], params={"X-Trace": key},
            tools=None, response={"role": "assistant", "content": f"noted: {key}"}, prompt_tokens=1, completion_tokens=1,
            cost=0.0, latency_s=0.1,
        ))
        if logger_type == "sqlite":
            connection = runtime_logging.get_connection()
            [(request, response)] = connection.execute("SELECT request, response FROM chat_completions").fetchall()
            connection.close()
            assert "my key is ***" in request and '"X-Trace": "***"' in request and "noted: ***" in response
    finally:
        runtime_logging.stop()
    if logger_type == "file":
        text = (tmp_path / "runtime.log").read_text()
        assert "unknown key ***" in text and "my key is ***" in text
    for path in tmp_path.rglob("*"):
        assert key.encode() not in path.read_bytes(), path.name


@pytest.mark.parametrize("provider, variable", [("openai", "OPENAI_API_KEY"), ("azure", "AZURE_OPENAI_API_KEY"),
                                                ("anthropic", "ANTHROPIC_API_KEY")])
def test_a_key_taken_from_the_environment_is_handed_to_redaction_too(provider, variable, openai_server, anthropic_server, monkeypatch):
    key = KEY_SHAPES["arbitrary"]()
    monkeypatch.setenv(variable, key)
    server = anthropic_server if provider == "anthropic" else openai_server
    entry = {"model": "m", "api_type": provider, "max_retries": 0,
             "base_url": server.azure_endpoint if provider == "azure" else server.base_url, "api_version": "2024-06-01"}
    server.add({"status": 401, "error": f"invalid key {key}"})
    with pytest.raises(ModelError, match="HTTP 401") as error:
        OpenAIWrapper(config_list=[entry]).create(messages=HI)
    assert key in str(server.headers[-1])  # the environment's key was the one sent
    assert key not in str(error.value) and "invalid key ***" in str(error.value)
