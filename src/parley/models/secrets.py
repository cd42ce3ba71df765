"""Secrets in model configs, and text with them taken out.

A config entry can carry a secret in many places: ``api_key`` (or ``azure_ad_token``), a header
named like authorization/key/token/secret/password/cookie in ``default_headers`` or
``extra_headers`` (``api-key``, ``x-api-key``, ``Authorization: Bearer ...``), a query parameter
named like key/token/sig/secret/code in ``extra_query``/``default_query`` or in ``base_url``'s
query string, and the user-info of ``base_url``. :func:`config_secrets` finds the literal values;
each model client hands its own to :func:`remember` when it is built, and :func:`redact` takes
every remembered value (and anything key-shaped) out of a text. Error texts, the runtime logs and
the store's ``chat_completions`` rows all go through :func:`redact`, so a key given in any of
those places never reaches them, whatever its shape (an Azure key is 32 hex digits, which no
pattern could tell from a hash).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
# Shorter values are not taken for secrets: replacing them everywhere would mangle ordinary text.
MIN_SECRET_LENGTH = 6
# Keys that local servers' docs tell users to give when none is checked (and parley's own
# stand-in): no secret, and masking them would mask the word "ollama" in every log line.
PLACEHOLDER_KEYS = frozenset({"no-key", "ollama", "lm-studio", "empty", "notrequired", "not-needed", "sk-no-key-required"})

# Header and query-parameter names whose values are credentials (case-insensitive substrings).
_SECRET_HEADER = re.compile(r"auth|key|token|secret|passw|cookie|credential|signature|session", re.IGNORECASE)
_SECRET_QUERY_PARAM = re.compile(r"key|token|sig|secret|code|passw|auth|credential|session", re.IGNORECASE)

# Config-entry fields by what they hold.
SECRET_FIELDS = ("api_key", "azure_ad_token", "admin_api_key", "webhook_secret")
HEADER_FIELDS = ("default_headers", "extra_headers", "headers")
QUERY_FIELDS = ("default_query", "extra_query")
URL_FIELDS = ("base_url", "azure_endpoint", "api_base")

# Secret-shaped text that no config handed over (an SDK echoing some other key): OpenAI
# (``sk-``, ``sk-proj-``), Anthropic (``sk-ant-``) and other prefixed keys, auth schemes,
# URL user-info and secret-named query parameters. Each comes with a cheap test of whether the
# text could hold it at all: a regex scan is slow, and a long chat's logged requests are large.
_PATTERNS = (
    (lambda text, lowered: any(p in lowered for p in ("sk-", "rk-", "pk-", "key-", "key_", "api-", "api_")),
     # A digit in the tail: keys have them, words like "api-documentation" do not.
     re.compile(r"\b(?:sk|rk|pk|key|api)[-_](?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{12,}"), MASK),
    (lambda text, lowered: "bearer" in lowered or "basic" in lowered or "token" in lowered,
     # A digit or base64's +/= in the credential: "Basic question" is no header.
     re.compile(r"\b(Bearer|Basic|Token)\s+(?=[A-Za-z._~\-]*[0-9+/=])[A-Za-z0-9._~+/=\-]{12,}", re.IGNORECASE), r"\1 " + MASK),
    (lambda text, lowered: "@" in text and "://" in text,
     re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^/\s@'\"<>]+@", re.IGNORECASE), r"\1" + MASK + "@"),
    (lambda text, lowered: "=" in text,
     re.compile(r"([?&;][^=&\s#'\"<>]*(?:key|token|sig|secret|passw|auth|credential|code)[^=&\s#'\"<>]*=)[^&\s#'\"<>]+",
                re.IGNORECASE), r"\1" + MASK),
)


def is_secret_header(name: Any) -> bool:
    return isinstance(name, str) and _SECRET_HEADER.search(name) is not None


_SECRET_FIELD = re.compile(r"(^|[_\-])(api[_\-]?key|apikey|key|token|secret|passw(or)?d?)$", re.IGNORECASE)


def is_secret_field(name: Any) -> bool:
    """A config field named like a credential (``apikey``, ``openai_api_key``, ``token``)."""
    return isinstance(name, str) and name != "prompt_cache_key" and _SECRET_FIELD.search(name) is not None


def is_secret_query_param(name: Any) -> bool:
    return isinstance(name, str) and _SECRET_QUERY_PARAM.search(name) is not None


def _with_encodings(value: str) -> list[str]:
    """``value`` as given, percent-decoded and percent-encoded: the forms a URL or a log shows."""
    forms = [value, urllib.parse.unquote(value), urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)]
    return list(dict.fromkeys(forms))


def secrets_in_headers(headers: Any) -> list[str]:
    """The values of the credential headers in ``headers``; for ``Bearer <token>`` also the token,
    for ``Basic <base64>`` also the password inside."""
    found: list[str] = []
    if not isinstance(headers, Mapping):
        return found
    for name, value in headers.items():
        if not is_secret_header(name) or not isinstance(value, str):
            continue
        found.append(value)
        scheme, _, token = value.strip().partition(" ")
        if token:
            found.append(token.strip())
            if scheme.lower() == "basic":
                try:
                    user_pass = base64.b64decode(token.strip(), validate=True).decode()
                except (binascii.Error, UnicodeDecodeError):
                    continue
                found.append(user_pass.partition(":")[2])
    return found


def secrets_in_query(query: Any) -> list[str]:
    """The values of the credential parameters in a query mapping (``extra_query``)."""
    found: list[str] = []
    if not isinstance(query, Mapping):
        return found
    for name, value in query.items():
        if is_secret_query_param(name):
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, str):
                    found.extend(_with_encodings(item))
    return found


def secrets_in_url(url: Any) -> list[str]:
    """The user-info (a password, or a user name standing alone as a token) and the values of
    credential query parameters in ``url``."""
    if not isinstance(url, str):
        return []
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return []
    found: list[str] = []
    if parts.password:
        found.extend(_with_encodings(parts.password))
    elif parts.username:
        found.extend(_with_encodings(parts.username))
    for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if is_secret_query_param(name):
            found.extend(_with_encodings(value))
    return found


def config_secrets(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """Every literal secret value a config entry (or an SDK client's settings) carries."""
    found: list[str] = []
    for field in SECRET_FIELDS:
        value = entry.get(field)
        if isinstance(value, str):
            found.append(value)
    for field, value in entry.items():
        # A credential under a field name parley does not read (``apikey``, ``token``) is still one.
        if field not in SECRET_FIELDS and isinstance(value, str) and is_secret_field(field):
            found.append(value)
    for field in HEADER_FIELDS:
        found.extend(secrets_in_headers(entry.get(field)))
    for field in QUERY_FIELDS:
        found.extend(secrets_in_query(entry.get(field)))
    for field in URL_FIELDS:
        found.extend(secrets_in_url(entry.get(field)))
    return tuple(dict.fromkeys(s for s in found if len(s) >= MIN_SECRET_LENGTH))


# Every secret a client was built with in this process, longest first (a key inside a header
# value goes whole): they stay out of all texts redacted later.
_known: tuple[str, ...] = ()
_known_lock = threading.Lock()


def remember(values: Iterable[str | None]) -> tuple[str, ...]:
    """Keep ``values`` (those long enough to be secrets) out of every text :func:`redact` sees from now on."""
    global _known
    new = tuple(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH and v.lower() not in PLACEHOLDER_KEYS)
    with _known_lock:
        added = [v for v in new if v not in _known]
        if added:
            _known = tuple(sorted({*_known, *added}, key=len, reverse=True))
    return new


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets, the remembered ones, or anything shaped like a credential."""
    if not isinstance(text, str):
        text = str(text)
    given = sorted((s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)
    for secret in (*given, *_known):
        if secret in text:  # a substring test is far cheaper than a replace or a regex over a large text
            text = text.replace(secret, MASK)
    lowered = text.lower()
    for could_hold, shape, replacement in _PATTERNS:
        if could_hold(text, lowered):
            text = shape.sub(replacement, text)
    return text


def redact_url(url: str | None) -> str | None:
    """``url`` with its user-info and the values of its credential query parameters masked."""
    if url is None:
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{urllib.parse.quote_plus(name)}={MASK if is_secret_query_param(name) else urllib.parse.quote_plus(value)}"
            for name, value in pairs
        )
    return redact(urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string in it redacted (dict keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


def redact_config(config: Mapping[str, Any]) -> dict:
    """A config entry or a call's parameters as they may be shown, logged or stored: secret fields,
    credential headers and query parameters masked, URLs without credentials, every other string
    redacted."""
    shown: dict[str, Any] = {}
    for field, value in config.items():
        if field in SECRET_FIELDS:
            shown[field] = MASK
        elif field in HEADER_FIELDS and isinstance(value, Mapping):
            shown[field] = {k: MASK if is_secret_header(k) else redact_value(v) for k, v in value.items()}
        elif field in QUERY_FIELDS and isinstance(value, Mapping):
            shown[field] = {k: MASK if is_secret_query_param(k) else redact_value(v) for k, v in value.items()}
        elif field in URL_FIELDS and isinstance(value, str):
            shown[field] = redact_url(value)
        else:
            shown[field] = redact_value(value)
    return shown


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (the provider SDKs log request
    options, headers and URLs at debug level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own error handling
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# The provider SDKs and their HTTP layers (httpx logs each request's URL, query string included).
_SDK_LOGGER_ROOTS = ("openai", "anthropic", "httpx", "httpx2", "httpcore", "aiohttp", "httpx_aiohttp")
_filter = RedactingFilter()


def guard_sdk_logs() -> None:
    """Put the redacting filter on the loggers of the provider SDKs and their HTTP layers: each
    root name and every logger under one that exists now (a logger's filters see only the records
    logged to that very logger, so each needs it; call this after the SDK is imported)."""
    names = set(_SDK_LOGGER_ROOTS)
    names.update(name for name in list(logging.root.manager.loggerDict) if name.split(".", 1)[0] in _SDK_LOGGER_ROOTS)
    for name in names:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
