"""From a config-list entry to a model client.

``api_type`` picks the provider module (imported only when an entry needs it); hosted
providers are wrapped in :class:`~parley.models.retry.RetryingClient`. Configuration errors
(unknown ``api_type``, a missing key or endpoint) are raised here, before any request.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Literal, overload

from .llm_config import SUPPORTED_API_TYPES, provider_of
from .protocol import MissingPackageError, ModelClient, ModelConfigError

DEFAULT_MAX_RETRIES = 3


class MissingKeyError(ModelConfigError):
    """An entry needs an API key and neither the entry nor the environment has one."""


def _describe(entry: dict) -> str:
    return f"config entry for model {entry.get('model', '?')!r} (api_type {entry.get('api_type', 'openai')!r})"


@overload
def _api_key(entry: dict, env_var: str, *, required: Literal[True]) -> str: ...


@overload
def _api_key(entry: dict, env_var: str, *, required: bool) -> str | None: ...


def _api_key(entry: dict, env_var: str, *, required: bool) -> str | None:
    key = entry.get("api_key") or os.environ.get(env_var)
    if not key and required:
        raise MissingKeyError(
            f"{_describe(entry)}: no 'api_key' and ${env_var} is not set; give the key in the entry or the environment"
        )
    return key


def _retrying(client: ModelClient, entry: dict) -> ModelClient:
    from .retry import RetryingClient

    max_retries = entry.get("max_retries", DEFAULT_MAX_RETRIES)
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ModelConfigError(f"{_describe(entry)}: 'max_retries' must be an int >= 0, got {max_retries!r}")
    return RetryingClient(client, max_retries=max_retries)


def _require_sdk(entry: dict, sdk: str) -> None:
    """A clear error when the entry needs a provider SDK that is not installed (found without importing it)."""
    if importlib.util.find_spec(sdk) is None:
        raise MissingPackageError(f"{_describe(entry)} needs the {sdk} SDK, which is not installed: pip install 'parley[{sdk}]'")


class DeferredClient:
    """Stands for an entry that cannot be built yet: its API key is not set, or a package it needs
    (llama-cpp-python for the embedded model, a provider SDK) is not installed, or (``problem``)
    it lacks what only a request needs (a model). The agent can be
    built (and given tools) now; the entry is built when a request is made, as classic AutoGen
    builds its clients, and if it still cannot be, the request fails with the error that says why."""

    def __init__(self, entry: dict, problem: ModelConfigError | None = None) -> None:
        self._entry = entry
        self._problem = problem  # what is wrong with the entry, raised by every request
        self._client: ModelClient | None = None
        self.model = entry.get("model")

    def __repr__(self) -> str:
        return f"DeferredClient({_describe(self._entry)})"

    async def create(self, request: Any) -> Any:
        if self._problem is not None:
            raise self._problem
        if self._client is None:
            self._client = build_client(self._entry, defer=False)
        return await self._client.create(request)


def build_client(entry: dict, *, defer: bool = True) -> ModelClient:
    """The client for one config entry (without the wrapper's cache and accounting).

    With ``defer``, an entry whose API key is not set or whose package is not installed gives a
    :class:`DeferredClient` instead of an error; other configuration errors are raised now."""
    try:
        return _build_client(entry)
    except (MissingKeyError, MissingPackageError):
        if not defer:
            raise
        return DeferredClient(entry)


def _build_client(entry: dict) -> ModelClient:
    api_type = provider_of(entry.get("api_type"))
    if api_type is None:
        raise ModelConfigError(
            f"unknown api_type {entry.get('api_type')!r} in {_describe(entry)}; supported: {', '.join(SUPPORTED_API_TYPES)}"
        )
    if api_type == "scripted":
        from .scripted import ScriptedModelClient

        if "replies" not in entry:
            raise ModelConfigError(f"{_describe(entry)}: a scripted entry needs 'replies'")
        return ScriptedModelClient(entry["replies"], model=entry.get("model", "scripted"))
    if api_type == "local":
        from .local import LocalModelClient

        return LocalModelClient(entry)
    headers: Any = entry.get("default_headers")
    if headers is not None and not isinstance(headers, dict):
        raise ModelConfigError(f"{_describe(entry)}: 'default_headers' must be a dict")
    query: Any = entry.get("default_query")
    if query is not None and not isinstance(query, dict):
        raise ModelConfigError(f"{_describe(entry)}: 'default_query' must be a dict")
    base_url = entry.get("base_url") or None
    _require_sdk(entry, "anthropic" if api_type == "anthropic" else "openai")
    if api_type == "anthropic":
        from .anthropic import AnthropicClient

        # A custom base_url may be a local gateway that needs no key; api.anthropic.com always does.
        key = _api_key(entry, "ANTHROPIC_API_KEY", required=base_url is None) or "no-key"
        anthropic_client = AnthropicClient(model=entry["model"], api_key=key, base_url=base_url, default_headers=headers,
                                           default_query=query)
        return _retrying(anthropic_client, entry)
    from .openai import OpenAIClient

    if api_type == "azure":
        base_url = base_url or entry.get("azure_endpoint")
        if not base_url:
            raise ModelConfigError(
                f"{_describe(entry)}: an azure entry needs 'base_url' (the https://<resource>.openai.azure.com endpoint)"
            )
        api_version = entry.get("api_version") or os.environ.get("OPENAI_API_VERSION")
        if not api_version:
            raise ModelConfigError(f"{_describe(entry)}: an azure entry needs 'api_version' (e.g. '2024-06-01')")
        key = _api_key(entry, "AZURE_OPENAI_API_KEY", required=True)
        client = OpenAIClient(model=entry["model"], api_key=key, base_url=base_url, azure=True, api_version=api_version,
                              default_headers=headers, default_query=query)
        return _retrying(client, entry)
    # OpenAI itself needs a key; a local OpenAI-compatible server (Ollama, vLLM, ...) usually does not.
    key = _api_key(entry, "OPENAI_API_KEY", required=base_url is None) or "no-key"
    client = OpenAIClient(model=entry["model"], api_key=key, base_url=base_url, organization=entry.get("organization"),
                          project=entry.get("project"), default_headers=headers, default_query=query)
    return _retrying(client, entry)
