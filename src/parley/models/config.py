"""Config lists: the classic ways to load and filter model endpoints.

An entry is a dict with ``model`` and some of ``api_key, base_url, api_type, api_version,
tags, price`` (plus generation options that are passed through to the provider).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from .. import events
from .protocol import ModelConfigError

logger = logging.getLogger(__name__)


class ConfigListLengthError(ModelConfigError, AssertionError):
    """``get_config_list`` was given a different number of base URLs than keys (classic asserted)."""

# What config_list_from_json returns when neither the variable nor the file exists, so the
# seed scripts run offline, on the embedded model.
OFFLINE_CONFIG_LIST = [{"model": "smollm2-135m", "api_type": "local"}]


_JSON_TYPES = {dict: "object", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}

DEFAULT_AZURE_API_VERSION = "2024-06-01"
"""The Azure OpenAI API version of entries made from AZURE_OPENAI_* keys when OPENAI_API_VERSION is unset."""


def _parse(text: str, source: str) -> list[dict]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelConfigError(
            f"{source} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno} (char {error.pos})"
        ) from None
    if not isinstance(value, list):
        hint = " (put a single entry in a list: [{...}])" if isinstance(value, dict) else ""
        kind = _JSON_TYPES.get(type(value), type(value).__name__)
        raise ModelConfigError(f"{source} must hold a JSON list of config entries, not a JSON {kind}{hint}")
    if not value:
        raise ModelConfigError(f"{source} holds an empty list: no model to call")
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ModelConfigError(f"{source}: entry {i} must be a JSON object, not {type(entry).__name__}")
    return value


def _read_file(path: str, source: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise ModelConfigError(f"{source}: cannot read {path!r}: {error.strerror}") from None
    return _parse(text, source)


def config_list_from_json(env_or_file: str, file_location: str = "", filter_dict: dict | None = None) -> list[dict]:
    """Load a config list.

    ``env_or_file`` names an environment variable holding the JSON list itself or the path of
    a JSON file; if no such variable is set, it names a file (in ``file_location`` if given).
    If neither exists, the embedded offline model is returned (with a notice) and ``filter_dict``
    is not applied. ``filter_dict`` keeps the entries that match (see :func:`filter_config`);
    one that matches nothing gives ``[]`` (as classic) and a warning listing the models available.
    """
    value = os.environ.get(env_or_file)
    if value is not None and value.strip():
        if value.lstrip().startswith(("[", "{")):  # JSON in the variable itself (a list, or an object to reject clearly)
            config_list = _parse(value, f"environment variable {env_or_file}")
        else:
            path = os.path.expanduser(value.strip())
            if not os.path.exists(path):
                # Not the value: a variable named by mistake (or by a spec) may hold a secret.
                raise ModelConfigError(f"environment variable {env_or_file} is neither a JSON config list nor the path "
                                       "of an existing file")
            config_list = _read_file(path, f"the config file named by environment variable {env_or_file}")
    else:
        path = os.path.join(file_location, env_or_file) if file_location else env_or_file
        if not os.path.exists(path):
            events.emit(events.Notice(text=f"{env_or_file} not found: using the embedded local model SmolLM2-135M"))
            return [dict(entry) for entry in OFFLINE_CONFIG_LIST]
        config_list = _read_file(path, f"config file {path!r}")
    if not filter_dict:
        return config_list
    filtered = filter_config(config_list, filter_dict)
    if not filtered:
        models = sorted({str(entry.get("model")) for entry in config_list})
        # Classic returns []: a script may try several filters; an agent given [] fails when built.
        events.emit(events.Notice(
            text=f"filter_dict {_shown(filter_dict)} matches none of the {len(config_list)} entries in {env_or_file}; "
            f"models available: {', '.join(models)}",
            level="warning",
        ))
    return filtered


def _shown(filter_dict: dict) -> str:
    """The filter for a log line: the values of public fields, only the names of the others (a
    filter on api_key or base_url holds a secret, or a guess at one)."""
    public = ("model", "tags", "api_type")
    shown = (f"{key!r}: {value!r}" if key in public else f"{key!r}: ***" for key, value in filter_dict.items())
    return "{" + ", ".join(shown) + "}"


def _matches(entry: dict, key: str, accepted: Any) -> bool:
    accepted_values = accepted if isinstance(accepted, (list, tuple, set, frozenset)) else [accepted]
    value = entry.get(key)
    if isinstance(value, list):  # e.g. tags: any one in common
        return any(v in accepted_values for v in value)
    return value in accepted_values


def filter_config(config_list: list[dict], filter_dict: dict | None, exclude: bool = False) -> list[dict]:
    """Entries whose every ``filter_dict`` key matches: the entry's value is one of the accepted
    values (a single value or a list of them); a list-valued field (``tags``) matches when it has
    one of them. An accepted value ``None`` also matches entries without the key.
    ``exclude=True`` keeps the entries that do not match instead.
    """
    if not filter_dict:
        return list(config_list)
    kept = []
    for entry in config_list:
        match = all(_matches(entry, key, accepted) for key, accepted in filter_dict.items())
        if match != exclude:
            kept.append(entry)
    return kept


def get_config_list(
    api_keys: list[str],
    base_urls: list[str] | None = None,
    api_type: str | None = None,
    api_version: str | None = None,
) -> list[dict]:
    """One entry per API key (without ``model``: add it, or use :func:`config_list_from_models`)."""
    if base_urls is not None and len(base_urls) != len(api_keys):
        raise ConfigListLengthError("The length of api_keys must match the length of base_urls")
    if not api_keys:
        raise ModelConfigError("get_config_list: 'api_keys' is empty")
    config_list = []
    for i, key in enumerate(api_keys):
        if not key or not key.strip():
            continue
        entry: dict[str, Any] = {"api_key": key.strip()}
        if base_urls is not None:
            entry["base_url"] = base_urls[i]
        if api_type:
            entry["api_type"] = api_type
        if api_version:
            entry["api_version"] = api_version
        config_list.append(entry)
    return config_list


def _keys_from(env_var: str, key_file_path: str | None, file_name: str) -> list[str]:
    """The non-empty lines of ``$env_var``, else of ``key_file_path/file_name`` (no file when the path is None)."""
    text = os.environ.get(env_var)
    if text is None and key_file_path is not None and os.path.exists(os.path.join(key_file_path, file_name)):
        with open(os.path.join(key_file_path, file_name), encoding="utf-8") as file:
            text = file.read()
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _one_per_key(bases: list[str], keys: list[str], what: str) -> list[str] | None:
    if not bases:
        return None
    if len(bases) == 1:
        return bases * len(keys)
    if len(bases) != len(keys):
        raise ModelConfigError(
            f"config_list_openai_aoai: {len(keys)} {what} keys but {len(bases)} base URLs; give one per key (or one for all)"
        )
    return bases


def config_list_openai_aoai(
    key_file_path: str | None = ".",
    openai_api_key_file: str = "key_openai.txt",
    aoai_api_key_file: str = "key_aoai.txt",
    openai_api_base_file: str = "base_openai.txt",
    aoai_api_base_file: str = "base_aoai.txt",
    exclude: str | None = None,
) -> list[dict]:
    """Entries for OpenAI (``OPENAI_API_KEY`` / ``OPENAI_API_BASE`` or the files) and Azure OpenAI
    (``AZURE_OPENAI_API_KEY`` / ``AZURE_OPENAI_API_BASE`` or the files), one per line, as classic;
    ``key_file_path=None`` reads only the environment."""
    config_list: list[dict] = []
    if exclude != "openai":
        keys = _keys_from("OPENAI_API_KEY", key_file_path, openai_api_key_file)
        bases = _keys_from("OPENAI_API_BASE", key_file_path, openai_api_base_file)
        if not bases and os.environ.get("OPENAI_BASE_URL"):
            bases = [os.environ["OPENAI_BASE_URL"]]
        config_list += get_config_list(keys, _one_per_key(bases, keys, "OpenAI")) if keys else []
    if exclude != "aoai":
        keys = _keys_from("AZURE_OPENAI_API_KEY", key_file_path, aoai_api_key_file)
        bases = _keys_from("AZURE_OPENAI_API_BASE", key_file_path, aoai_api_base_file)
        if keys:
            config_list += get_config_list(keys, _one_per_key(bases, keys, "Azure OpenAI"), api_type="azure",
                                           api_version=os.environ.get("OPENAI_API_VERSION", DEFAULT_AZURE_API_VERSION))
    return config_list


def config_list_from_models(
    key_file_path: str | None = ".",
    openai_api_key_file: str = "key_openai.txt",
    aoai_api_key_file: str = "key_aoai.txt",
    aoai_api_base_file: str = "base_aoai.txt",
    exclude: str | None = None,
    model_list: list[str] | None = None,
) -> list[dict]:
    """:func:`config_list_openai_aoai` crossed with ``model_list`` (one entry per endpoint and model)."""
    endpoints = config_list_openai_aoai(key_file_path, openai_api_key_file, aoai_api_key_file,
                                        aoai_api_base_file=aoai_api_base_file, exclude=exclude)
    if not model_list:
        return endpoints
    return [{**endpoint, "model": model} for model in model_list for endpoint in endpoints]


def config_list_from_dotenv(
    dotenv_file_path: str | None = None,
    model_api_key_map: dict[str, Any] | None = None,
    filter_dict: dict | None = None,
) -> list[dict]:
    """Entries built from environment variables, after loading ``dotenv_file_path`` (python-dotenv).

    ``model_api_key_map`` maps a model to the name of the variable holding its key, or to a dict
    with ``api_key_env_var`` and other entry fields (``api_type``, ``base_url``, ...). The default
    maps gpt-4 and gpt-3.5-turbo to ``OPENAI_API_KEY``, as classic. Without ``dotenv_file_path`` the
    nearest ``.env`` from the current directory up is loaded. A missing file and models whose
    variable is unset are logged warnings (classic's texts), and the models left out; none left
    gives ``[]`` (logged as an error).
    """
    from dotenv import find_dotenv, load_dotenv

    # Classic's rules and texts: a missing file, or no .env found, is a warning, not an error.
    if dotenv_file_path:
        if os.path.exists(dotenv_file_path):
            load_dotenv(dotenv_file_path)
        else:
            logger.warning(f"The specified .env file {dotenv_file_path} does not exist.")
    else:
        found = find_dotenv(usecwd=True)
        if found:
            load_dotenv(found)
        else:
            logger.warning("No .env file found. Loading configurations from environment variables.")
    if model_api_key_map is None:
        model_api_key_map = {"gpt-4": "OPENAI_API_KEY", "gpt-3.5-turbo": "OPENAI_API_KEY"}
    config_list = []
    for model, spec in model_api_key_map.items():
        fields = {"api_key_env_var": spec} if isinstance(spec, str) else dict(spec)
        env_var = fields.pop("api_key_env_var", None)
        if not env_var:
            raise ModelConfigError(f"model_api_key_map[{model!r}] needs 'api_key_env_var'")
        key = os.environ.get(env_var)
        if not key or not key.strip():
            logger.warning(f"API key not found or empty for model {model}. Please ensure path to .env file is correct.")
            continue
        config_list.append({"model": model, "api_key": key, **fields})
    if not config_list:
        logger.error("No configurations loaded.")
        return []
    return filter_config(config_list, filter_dict) if filter_dict else config_list
