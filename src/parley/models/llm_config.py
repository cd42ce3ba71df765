"""Checks of an ``llm_config`` when an agent (or ``OpenAIWrapper``) is built.

Bad input fails here, with the field's path (``llm_config['config_list'][1]['model']``) and what
it may be, instead of deep inside an SDK or as a silently odd result (``cache_seed=[1]`` made a
folder named ``[1]``). What classic AutoGen 0.2 accepts passes unchanged. A key's value is never
shown in a message, only its type.
"""

from __future__ import annotations

import difflib
from typing import Any

from .protocol import ModelConfigError
from .secrets import is_secret_field

SUPPORTED_API_TYPES = ("openai", "azure", "anthropic", "local", "scripted")


def provider_of(api_type: Any) -> str | None:
    """The provider an entry's ``api_type`` names (None: unknown). Classic also took ``open_ai``
    (the openai<1 name) and any ``azure...`` (``azure_ad``) for those providers."""
    if api_type is None or api_type == "":
        return "openai"
    if not isinstance(api_type, str):
        return None
    name = api_type.lower()
    if name == "open_ai":
        return "openai"
    if name.startswith("azure"):
        return "azure"
    return name if name in SUPPORTED_API_TYPES else None

# llm_config keys that configure the wrapper itself rather than the generation.
# ("reply_protocol" is the agent's: parley.agents.reply_protocol; never sent to a model.)
WRAPPER_KEYS = frozenset({"config_list", "cache_seed", "tools", "functions", "response_format", "stream", "price", "cache",
                          "reply_protocol"})
# Config-entry keys that say which endpoint to use and how; never sent as generation params.
ENDPOINT_KEYS = frozenset(
    {"model_client_cls", "client", "api_key", "base_url", "api_type", "api_version", "tags", "price", "azure_endpoint",
     "azure_ad_token", "azure_ad_token_provider", "organization", "default_headers", "default_query", "http_client",
     "max_retries", "replies",
     # the rest of the openai SDK clients' settings, client config in classic too
     "project", "azure_deployment", "websocket_base_url", "webhook_secret", "admin_api_key", "_strict_response_validation"}
)

_NUMBER_PARAMS = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "min_p", "repeat_penalty")
_POSITIVE_INT_PARAMS = ("max_tokens", "max_completion_tokens", "n", "top_k")
_STRING_FIELDS = ("api_version", "organization", "project")
_URL_FIELDS = ("base_url", "azure_endpoint")
_MAPPING_FIELDS = ("extra_query", "extra_body", "default_query")
_HEADER_FIELDS = ("default_headers", "extra_headers")


# What the chat-completions APIs and parley's providers take, beside the fields above: a field
# within a letter or two of one of these, and not one itself, is a typo (``temprature``).
KNOWN_PARAMS = frozenset({
    *_NUMBER_PARAMS, *_POSITIVE_INT_PARAMS, "timeout", "stop", "seed", "user", "logit_bias", "logprobs",
    "top_logprobs", "tool_choice", "parallel_tool_calls", "function_call", "stream_options", "service_tier",
    "store", "metadata", "modalities", "audio", "prediction", "reasoning_effort", "verbosity", "web_search_options",
    "prompt_cache_key", "safety_identifier", "extra_headers", "extra_query", "extra_body", "max_retries", "model",
    "context", "allow_format_str_template", "filter_func", "api_key", "top_k", "min_p", "repeat_penalty",
    "repetition_penalty", "max_new_tokens", "system", "thinking", "model_path", "n_ctx", "n_batch", "n_threads",
    "model_client_cls",
})
def check_field_names(params: dict, where: str, known: frozenset[str]) -> None:
    """Refuse a credential-named field parley does not read and a near-miss of a known field,
    naming the field and what was probably meant."""
    for name, value in params.items():
        if not isinstance(name, str) or name in known or name in KNOWN_PARAMS:
            continue
        close = difflib.get_close_matches(name, sorted(known | KNOWN_PARAMS), n=1, cutoff=0.85)
        if close:
            raise ModelConfigError(
                f"{where}['{name}'] is not a field any provider takes; did you mean '{close[0]}'? "
                "(a server's own fields go in 'extra_body')"
            )
        # A credential under a field name parley does not read (``apikey``, ``openai_api_key``,
        # ``token``) would be sent to the server as a request parameter, key and all.
        if isinstance(value, str) and is_secret_field(name):
            raise ModelConfigError(
                f"{where}['{name}'] looks like a credential but is not a field parley reads: it would be sent to "
                "the server as a request parameter. Did you mean 'api_key'? (headers go in 'default_headers')"
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type(value: Any) -> str:
    return type(value).__name__


def check_generation_params(params: dict, where: str) -> None:
    """Generation options a provider would reject only at the first call (or never)."""
    for name in _NUMBER_PARAMS:
        value = params.get(name)
        if value is not None and not _is_number(value):
            raise ModelConfigError(f"{where}['{name}'] must be a number, got {_type(value)} {value!r}")
    for name in _POSITIVE_INT_PARAMS:
        value = params.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ModelConfigError(f"{where}['{name}'] must be an int >= 1 (or None), got {_type(value)} {value!r}")
    timeout = params.get("timeout")
    # A number of seconds; the SDKs also take an httpx.Timeout object, so only plain data is refused.
    if timeout is not None and (
        isinstance(timeout, (str, bytes, bool, list, tuple, dict, set)) or (_is_number(timeout) and not timeout > 0)
    ):
        raise ModelConfigError(
            f"{where}['timeout'] must be a number of seconds > 0 (or None for no limit), got {_type(timeout)} {timeout!r}"
        )
    stop = params.get("stop")
    if stop is not None and not isinstance(stop, str) and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise ModelConfigError(f"{where}['stop'] must be a string or a list of strings, got {_type(stop)} {stop!r}")
    for name in _HEADER_FIELDS:
        headers = params.get(name)
        if headers is not None and (
            not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            # Header values may be keys: only types are shown.
            raise ModelConfigError(f"{where}['{name}'] must be a dict of header names to string values, got {_type(headers)}")
    for name in _MAPPING_FIELDS:
        value = params.get(name)
        if value is not None and not isinstance(value, dict):
            raise ModelConfigError(f"{where}['{name}'] must be a dict, got {_type(value)}")


# Classic's sentence, which scripts and tests match.
SPECIFY_MODEL = ("When using OpenAI or Azure OpenAI endpoints, specify a non-empty 'model' either in 'llm_config' "
                 "or in each config of 'config_list'.")


def check_entry(entry: dict, where: str, *, at_request: bool = True) -> None:
    """One config-list entry (``where`` is its path in the llm_config). ``at_request=False``
    leaves out what classic only finds when a request is made: a missing ``model``."""
    custom = "client" in entry or "model_client_cls" in entry
    api_type = entry.get("api_type")
    provider = provider_of(api_type)
    if provider is None and not custom:
        raise ModelConfigError(f"{where}['api_type']: unknown api_type {api_type!r}; supported: {', '.join(SUPPORTED_API_TYPES)}")
    model = entry.get("model")
    needs_model = not custom and provider not in ("local", "scripted")
    # As classic, an entry without 'model' can be configured (the model may come with the
    # request); it is refused when a request is made with it. A blank one is refused now.
    if model is not None or (needs_model and at_request):
        if not isinstance(model, str):
            given = "nothing" if model is None else f"{_type(model)} {model!r}"
            raise ModelConfigError(
                f"{where}['model'] must be a non-empty string (the model or deployment name), got {given}. {SPECIFY_MODEL}"
            )
        if not model.strip():
            raise ModelConfigError(f"{where}['model'] is missing or empty: give the model or deployment name. {SPECIFY_MODEL}")
    api_key = entry.get("api_key")
    if api_key is not None and not isinstance(api_key, str):
        raise ModelConfigError(f"{where}['api_key'] must be a string (the provider's key), got {_type(api_key)}")
    for name in _STRING_FIELDS:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise ModelConfigError(f"{where}['{name}'] must be a string, got {_type(value)} {value!r}")
    for name in _URL_FIELDS:
        value = entry.get(name)
        if value is not None and (not isinstance(value, str) or not value.lower().startswith(("http://", "https://"))):
            shown = _type(value) if not isinstance(value, str) else "a string without http:// or https://"
            raise ModelConfigError(
                f"{where}['{name}'] must be an http:// or https:// URL (e.g. 'http://localhost:11434/v1'), got {shown}"
            )
    retries = entry.get("max_retries")
    if retries is not None and (not isinstance(retries, int) or isinstance(retries, bool) or retries < 0):
        raise ModelConfigError(f"{where}['max_retries'] must be an int >= 0, got {_type(retries)} {retries!r}")
    tags = entry.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise ModelConfigError(f"{where}['tags'] must be a list of strings, got {_type(tags)} {tags!r}")
    check_field_names(entry, where, ENDPOINT_KEYS | WRAPPER_KEYS)
    check_generation_params(entry, where)


def check_llm_config(llm_config: Any, *, at_request: bool = True) -> list[dict]:
    """The config list of a valid ``llm_config`` (one entry made of the llm_config itself when it
    has no ``config_list``); a :class:`ModelConfigError` naming the field otherwise.
    ``at_request`` as for :func:`check_entry`."""
    from ..cache import check_cache_seed

    if not isinstance(llm_config, dict):
        raise TypeError(f"llm_config must be a dict, False or None, not {type(llm_config).__name__}")
    if not llm_config:
        raise ModelConfigError("llm_config is empty: give a 'config_list' (or 'model'), or llm_config=False for no model")
    for name in ("cache_seed", "seed"):
        if llm_config.get(name) is not None:
            try:
                check_cache_seed(llm_config[name], f"llm_config['{name}']")
            except (TypeError, ValueError) as error:
                raise ModelConfigError(str(error)) from None
    stream = llm_config.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise ModelConfigError(f"llm_config['stream'] must be True or False, got {_type(stream)} {stream!r}")
    if llm_config.get("reply_protocol") is not None and not isinstance(llm_config["reply_protocol"], bool):
        raise ModelConfigError(
            f"llm_config['reply_protocol'] must be True, False or None, got {_type(llm_config['reply_protocol'])}"
        )
    tools = llm_config.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)):
        raise ModelConfigError(f"llm_config['tools'] must be a list of tool schemas (dicts), got {_type(tools)}")
    config_list = llm_config.get("config_list")
    if config_list is None:
        if "model" not in llm_config and "model_client_cls" not in llm_config and "client" not in llm_config:
            raise ModelConfigError("llm_config has neither 'config_list' nor 'model'")
        entry = {k: v for k, v in llm_config.items() if k not in WRAPPER_KEYS}
        check_entry(entry, "llm_config", at_request=at_request)
        return [entry]
    if not isinstance(config_list, list):
        raise ModelConfigError(
            f"llm_config['config_list'] must be a list of config entries (dicts), not {type(config_list).__name__}"
        )
    if not config_list:
        raise ModelConfigError(f"llm_config['config_list'] is empty: no model to call. {SPECIFY_MODEL}")
    check_field_names(llm_config, "llm_config", ENDPOINT_KEYS | WRAPPER_KEYS)
    check_generation_params(llm_config, "llm_config")
    for i, entry in enumerate(config_list):
        if not isinstance(entry, dict):
            raise ModelConfigError(f"llm_config['config_list'][{i}] must be a dict, not {type(entry).__name__}")
        check_entry(entry, f"llm_config['config_list'][{i}]", at_request=at_request)
    return config_list
