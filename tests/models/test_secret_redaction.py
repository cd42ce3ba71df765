"""models/secrets.py function by function: every key shape a provider issues (OpenAI project keys,
Azure's 32 hex digits, Anthropic keys, arbitrary strings) in every place a key travels inside
parley (config fields, headers, query strings, URLs, error texts, log records, exported configs).

Pure unit tests: no servers and no threads, so mutation testing can fork each run safely
(tests/models/test_secrets.py covers the same through real clients, stores and logs).
"""

from __future__ import annotations

import base64
import logging
import secrets as tokens

import pytest

from parley.models import secrets
from parley.models.secrets import (
    MASK,
    RedactingFilter,
    config_secrets,
    guard_sdk_logs,
    is_secret_field,
    is_secret_header,
    is_secret_query_param,
    redact,
    redact_config,
    redact_url,
    redact_value,
    remember,
    secrets_in_headers,
    secrets_in_query,
    secrets_in_url,
)

# Fresh for every call, so no earlier test can have handed the value to redaction.
KEY_SHAPES = {
    "openai-project": lambda: "sk-proj-" + tokens.token_hex(24) + "T3BlbkFJ" + tokens.token_hex(12),
    "azure-hex": lambda: tokens.token_hex(16),
    "anthropic": lambda: "sk-ant-api03-" + tokens.token_hex(30) + "-" + tokens.token_hex(4) + "AA",
    "arbitrary": lambda: f"hunter-{tokens.token_hex(3)}-horse",
}
SHAPES = sorted(KEY_SHAPES)


def fresh(shape: str) -> str:
    return KEY_SHAPES[shape]()


# ------------------------------------------------------------------ names of credential fields


@pytest.mark.parametrize("name", ["Authorization", "x-api-key", "api-key", "X-Goog-Api-Key", "X-Auth-Token", "Client-Secret",
                                  "X-Password", "Cookie", "X-Credential", "X-Amz-Signature", "Session-Id", "AUTH"])
def test_credential_header_names(name):
    assert is_secret_header(name)


@pytest.mark.parametrize("name", ["X-Trace", "Content-Type", "User-Agent", "", None, 7])
def test_other_header_names(name):
    assert not is_secret_header(name)


@pytest.mark.parametrize("name", ["key", "api-key", "access_token", "sig", "client_secret", "code", "password", "auth",
                                  "credential", "session", "SIG"])
def test_credential_query_params(name):
    assert is_secret_query_param(name)


@pytest.mark.parametrize("name", ["page", "mode", "q", "", None, 3])
def test_other_query_params(name):
    assert not is_secret_query_param(name)


@pytest.mark.parametrize("name", ["apikey", "api_key", "api-key", "APIKEY", "openai_api_key", "key", "my-key", "token",
                                  "auth_token", "secret", "password", "passwd", "passw", "Service-Password"])
def test_credential_field_names(name):
    assert is_secret_field(name)


@pytest.mark.parametrize("name", ["prompt_cache_key", "keyboard", "monkey", "tokens", "max_tokens", "secretary", "model", "",
                                  None])
def test_other_field_names(name):
    assert not is_secret_field(name)


# ------------------------------------------------------------------ finding the secrets a config carries


@pytest.mark.parametrize(
    "field", ["api_key", "azure_ad_token", "admin_api_key", "webhook_secret", "apikey", "openai_api_key", "token"])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_key_in_any_secret_field_is_found(field, shape):
    key = fresh(shape)
    assert config_secrets({"model": "gpt-4o-mini-2024", field: key}) == (key,)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("field", ["default_headers", "extra_headers", "headers"])
def test_a_key_in_any_header_field_is_found(field, shape):
    key = fresh(shape)
    found = config_secrets({field: {"api-key": key, "Authorization": f"Bearer {key}x", "X-Trace": "trace-1234567"}})
    assert found == (key, f"Bearer {key}x", f"{key}x")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("field", ["default_query", "extra_query"])
def test_a_key_in_any_query_field_is_found(field, shape):
    key = fresh(shape)
    assert config_secrets({field: {"sig": key, "page": "page-1234567"}}) == (key,)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("field", ["base_url", "azure_endpoint", "api_base"])
def test_a_key_in_any_url_field_is_found(field, shape):
    key = fresh(shape)
    assert config_secrets({field: f"https://gw.example/v1?mode=plain-text&key={key}"}) == (key,)
    assert config_secrets({field: f"https://user:{key}@gw.example/v1"}) == (key,)


def test_values_under_six_characters_and_non_strings_are_not_secrets():
    assert config_secrets({"api_key": "12345", "token": 123456, "apikey": "123456"}) == ("123456",)
    assert config_secrets({"api_key": None, "extra_headers": "Authorization: x", "extra_query": ["key"], "base_url": 7}) == ()


def test_a_value_found_twice_is_listed_once_in_the_order_found():
    entry = {"api_key": "first-key-1", "token": "first-key-1", "apikey": "second-key-2"}
    assert config_secrets(entry) == ("first-key-1", "second-key-2")


def test_headers():
    assert secrets_in_headers(None) == [] and secrets_in_headers([("Authorization", "x")]) == []
    assert secrets_in_headers({"X-Trace": "value-1", "api-key": 12345678, "X-Api-Key": "plain-value"}) == ["plain-value"]
    assert secrets_in_headers({"Authorization": "  Bearer  tok-123  "}) == ["  Bearer  tok-123  ", "tok-123"]
    password = fresh("arbitrary")
    basic = "Basic " + base64.b64encode(f"gateway:{password}:more".encode()).decode()
    assert secrets_in_headers({"Proxy-Authorization": basic}) == [basic, basic[6:], f"{password}:more"]
    # A "Basic" credential that is no base64 (base64 with a stray character is none), or no text,
    # yields the value and the token only, and the headers after it are still read.
    assert secrets_in_headers({"Authorization": "Basic not*base64", "X-Api-Key": "second-key"}) == [
        "Basic not*base64", "not*base64", "second-key"]
    stray = "Basic " + base64.b64encode(b"me:pw-123456").decode() + "*"
    assert secrets_in_headers({"Authorization": stray}) == [stray, stray[6:]]
    latin = "Basic " + base64.b64encode(b"\xff\xfe:pw").decode()
    assert secrets_in_headers({"Authorization": latin}) == [latin, latin[6:]]
    # Only the Basic scheme is decoded (case-insensitively).
    other = "Digest " + base64.b64encode(b"me:pw-123456").decode()
    assert secrets_in_headers({"Authorization": other}) == [other, other[7:]]
    lower = "basic " + base64.b64encode(b"me:pw-123456").decode()
    assert secrets_in_headers({"Authorization": lower})[-1] == "pw-123456"


def test_query():
    assert secrets_in_query(None) == [] and secrets_in_query([("key", "x")]) == []
    assert secrets_in_query({"page": "2", "code": ["a b/c", 5], "sig": ("s%2B1",), "key": 99}) == [
        "a b/c", "a%20b%2Fc", "a+b%2Fc", "s%2B1", "s+1", "s%252B1",
    ]


def test_url():
    assert secrets_in_url(None) == [] and secrets_in_url(42) == []
    assert secrets_in_url("http://[::1/v1") == []  # urlsplit refuses an unclosed IPv6 host
    assert secrets_in_url("https://me:p%2Bw@h.example/v1") == ["p%2Bw", "p+w", "p%252Bw"]
    assert secrets_in_url("https://lone-token@h.example/v1") == ["lone-token"]
    assert secrets_in_url("https://h.example/v1?page=2&token=&code=a+b") == ["", "a b", "a%20b", "a+b"]


# ------------------------------------------------------------------ remembering and redacting


@pytest.mark.parametrize("shape", SHAPES)
def test_a_remembered_key_leaves_every_later_text(shape):
    key = fresh(shape)
    assert remember([key, None, "short", 42]) == (key,)
    assert redact(f"401: invalid key {key} (key {key})") == "401: invalid key *** (key ***)"
    assert key in secrets._known


def test_remembered_keys_are_masked_longest_first():
    # Longest first, not in any other order: in reverse alphabetical order the short one goes first.
    short = "z-" + tokens.token_hex(4)
    long = "a-" + short
    remember([short])
    remember([long, short])
    assert secrets._known.count(short) == 1
    assert redact(f"a {long} b {short}") == "a *** b ***"


def test_a_six_character_value_is_a_secret_and_a_five_character_one_is_not():
    six = tokens.token_hex(3)
    assert remember([six, six[:5]]) == (six,)
    assert redact(f"x {six} y") == "x *** y"
    assert redact("x abcde y", ["abcde"]) == "x abcde y"
    assert redact("x abcdef y", ["abcdef", None]) == "x *** y"


@pytest.mark.parametrize("placeholder", [*sorted(secrets.PLACEHOLDER_KEYS), "Ollama", "NO-KEY"])
def test_placeholder_keys_are_not_remembered(placeholder):
    assert remember([placeholder]) == ()
    assert placeholder not in secrets._known


def test_given_secrets_are_masked_longest_first():
    assert redact("value: abcdefgh12", ["abcdefgh", "abcdefgh12"]) == "value: ***"
    assert redact("value: a-z-secret", ["z-secret", "a-z-secret"]) == "value: ***"
    assert redact(12345678901, ["1234567890"]) == "***1"


@pytest.mark.parametrize("prefix", ["sk-", "rk-", "pk-", "key-", "key_", "api-", "api_", "sk-proj-", "sk-ant-api03-"])
def test_key_shaped_text_is_masked_without_being_given(prefix):
    assert redact(f"bad key {prefix}abc123def4567 given") == "bad key *** given"


def test_what_is_not_key_shaped_is_kept():
    for text in ("sk-abc123def45", "see api-documentation-pages", "task-abc123def4567", "the api_abc123def45 is short"):
        assert redact(text) == text
    assert redact("sk-abc123def456") == "***"  # twelve characters after the prefix are enough


@pytest.mark.parametrize("scheme", ["Bearer", "Basic", "Token", "bearer", "TOKEN"])
def test_auth_schemes_keep_their_name_and_lose_the_credential(scheme):
    assert redact(f"sent {scheme} abcdefghijk1 ok") == f"sent {scheme} *** ok"
    assert redact(f"sent {scheme} abcdefghij+/ ok") == f"sent {scheme} *** ok"
    assert redact(f"a {scheme} questionnaire") == f"a {scheme} questionnaire"


def test_url_credentials_in_text():
    assert redact("GET https://me:pw@h.example/v1") == "GET https://***@h.example/v1"
    assert redact("mail me@h.example or see https://h.example") == "mail me@h.example or see https://h.example"
    for name in ("key", "api_key", "token", "sig", "secret", "passwd", "auth", "credential", "code", "X-KEY"):
        assert redact(f"GET /v1?page=2&{name}=value&a=1") == f"GET /v1?page=2&{name}=***&a=1", name
        assert redact(f"GET /v1;{name}=value") == f"GET /v1;{name}=***", name
    assert redact("GET /v1?page=2&mode=plain") == "GET /v1?page=2&mode=plain"


@pytest.mark.parametrize("shape", SHAPES)
def test_redact_url(shape):
    key = fresh(shape)
    assert redact_url(None) is None
    # "session" is a credential parameter only by name: the text patterns alone would keep it.
    assert redact_url(f"https://h.example/v1?session={key}&q=1") == "https://h.example/v1?session=***&q=1"
    assert redact_url(f"https://user:{key}@h.example:8443/v1?token={key}&q=a b#frag") == "https://***@h.example:8443/v1?token=***&q=a+b#frag"
    assert redact_url(f"https://a@b:{key}@h.example/") == "https://***@h.example/"
    assert redact_url("https://h.example/v1?empty=&page=2") == "https://h.example/v1?empty=&page=2"
    assert redact_url("https://h.example/v1") == "https://h.example/v1"
    remember([key])
    assert redact_url(f"http://[::1/{key}") == "http://[::1/***"  # not a URL urlsplit takes: redacted as text
    assert redact_url(f"https://h.example/{key}") == "https://h.example/***"


@pytest.mark.parametrize("shape", SHAPES)
def test_redact_value(shape):
    key = fresh(shape)
    remember([key])
    value = {key: [key, (1, f"x {key}")], 3: None, "n": 2.5, "t": (key,)}
    assert redact_value(value) == {MASK: [MASK, [1, "x ***"]], 3: None, "n": 2.5, "t": [MASK]}
    assert redact_value(key) == MASK and redact_value(7) == 7


@pytest.mark.parametrize("shape", SHAPES)
def test_redact_config_masks_every_place_by_position(shape):
    # A key no client handed over, and (Azure, arbitrary) that no pattern recognises: only its
    # place in the config masks it.
    key = fresh(shape)
    config = {
        "model": "gpt-4o", "temperature": 0.5, "note": "what? a b=c d",
        **dict.fromkeys(("api_key", "azure_ad_token", "admin_api_key", "webhook_secret"), key),
        **{field: {"X-Api-Key": key, "X-Trace": "t 1"} for field in ("default_headers", "extra_headers", "headers")},
        **{field: {"session": key, "page": "p 1"} for field in ("default_query", "extra_query")},
        **dict.fromkeys(("base_url", "azure_endpoint", "api_base"), f"https://h.example/v1?session={key}&q=a b"),
    }
    shown = redact_config(config)
    assert shown == {
        "model": "gpt-4o", "temperature": 0.5, "note": "what? a b=c d",
        **dict.fromkeys(("api_key", "azure_ad_token", "admin_api_key", "webhook_secret"), MASK),
        **{field: {"X-Api-Key": MASK, "X-Trace": "t 1"} for field in ("default_headers", "extra_headers", "headers")},
        **{field: {"session": MASK, "page": "p 1"} for field in ("default_query", "extra_query")},
        **dict.fromkeys(("base_url", "azure_endpoint", "api_base"), "https://h.example/v1?session=***&q=a+b"),
    }
    assert key not in repr(shown)


@pytest.mark.parametrize("shape", SHAPES)
def test_redact_config_redacts_remembered_keys_everywhere_else(shape):
    key = fresh(shape)
    remember([key])
    config = {
        "note": f"key {key}",
        "extra_headers": {"X-Trace": f"t {key}"},
        "extra_query": {"page": f"p {key}"},
        "base_url": f"https://u:{key}@h.example/v1",
    }
    assert redact_config(config) == {
        "note": "key ***", "extra_headers": {"X-Trace": "t ***"}, "extra_query": {"page": "p ***"},
        "base_url": "https://***@h.example/v1",
    }
    # Fields of the wrong type are redacted as values, not dropped.
    odd = redact_config({"extra_headers": [key], "extra_query": f"code={key}", "base_url": None})
    assert odd == {"extra_headers": [MASK], "extra_query": "code=***", "base_url": None}


# ------------------------------------------------------------------ log records


def record(msg, args=()):
    return logging.LogRecord("openai._base_client", logging.DEBUG, __file__, 1, msg, args, None)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_filter_redacts_a_records_message_and_drops_its_args(shape):
    key = fresh(shape)
    remember([key])
    rec = record("Request options: %s", ({"headers": {"api-key": key}},))
    assert RedactingFilter().filter(rec) is True
    assert rec.args is None and rec.msg == "Request options: {'headers': {'api-key': '***'}}"
    assert rec.getMessage() == rec.msg


def test_the_filter_leaves_a_clean_or_malformed_record_as_it_is():
    args = ("v1",)
    clean = record("GET /%s", args)
    assert RedactingFilter().filter(clean) is True
    assert clean.msg == "GET /%s" and clean.args is args
    malformed = record("%d items", ("many",))
    assert RedactingFilter().filter(malformed) is True
    assert malformed.msg == "%d items" and malformed.args == ("many",)
    too_few = record("%s and %s", ("one",))
    assert RedactingFilter().filter(too_few) is True and too_few.args == ("one",)


def test_guard_sdk_logs_filters_each_sdk_logger_once_and_no_other():
    # Loggers named afresh for each run: loggers outlive a test (and mutation runs fork a process
    # that already ran this test once).
    suffix = tokens.token_hex(4)
    children = [logging.getLogger(f"httpcore.{suffix}"), logging.getLogger(f"openai.{suffix}.deeper")]
    outsider = logging.getLogger(f"openai_lookalike.{suffix}")
    guard_sdk_logs()
    guard_sdk_logs()
    for name in ("openai", "anthropic", "httpx", "httpx2", "httpcore", "aiohttp", "httpx_aiohttp"):
        logger = logging.getLogger(name)
        assert logger.filters.count(secrets._filter) == 1, name
    assert isinstance(secrets._filter, RedactingFilter)
    for child in children:
        assert child.filters == [secrets._filter], child.name
    assert secrets._filter not in outsider.filters
    assert secrets._filter not in logging.getLogger().filters
