"""Replies served from a cache: a wrapper around a model client.

:class:`CachedClient` looks a request up in a classic cache (``parley.cache.Cache``, or anything
with ``get(key, default)`` and ``set(key, value)``) and asks its client only on a miss, storing
the reply. The key is what is sent (:func:`cache_key`), as classic computes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .llm_config import ENDPOINT_KEYS
from .protocol import ModelClient, ModelRequest, ModelResponse

_SECRET_KEYS = frozenset({"api_key", "azure_ad_token", "azure_ad_token_provider", "http_client", "client", "default_headers"})

# Entry fields and params that do not change what the model answers.
_NOT_IN_CACHE_KEY = frozenset({"tags", "price", "max_retries", "timeout"})


def public_entry(entry: dict) -> dict:
    """A config entry without secrets or live objects: what may be cached (as a hash key)."""
    return {k: v for k, v in entry.items() if k not in _SECRET_KEYS and not callable(v)}


def cache_key(entry: dict, request: ModelRequest) -> str:
    """A stable key for what is sent (model, messages, tools, parameters), as classic computes it:
    not where it is sent, so the same request through another ``base_url`` (a restarted local
    server on a new port, a failover entry) is a hit. It never contains the API key."""
    body = {
        "entry": {k: v for k, v in public_entry(entry).items() if k not in _NOT_IN_CACHE_KEY and k not in ENDPOINT_KEYS},
        "messages": request.messages,
        "tools": request.tools,
        **({"functions": request.functions} if request.functions else {}),  # old keys stay valid
        "response_format": request.response_format,
        "params": {k: v for k, v in request.params.items() if k not in _NOT_IN_CACHE_KEY},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class CachedClient:
    """``client`` (the client of config ``entry``) through ``cache``: a hit is returned with
    ``cached=True`` (and shown token-wise to a streamed call); a miss asks the client and stores
    its reply. A stored value that is not a dict (another program's entry) is a miss."""

    __slots__ = ("client", "cache", "entry")

    def __init__(self, client: ModelClient, cache: Any, entry: dict) -> None:
        self.client = client
        self.cache = cache
        self.entry = entry

    async def create(self, request: ModelRequest) -> ModelResponse:
        key = cache_key(self.entry, request)
        hit = self.cache.get(key, None)
        if isinstance(hit, dict):
            response = ModelResponse(**hit, cached=True)
            content = response.message.get("content")
            if request.on_token is not None and isinstance(content, str) and content:
                request.on_token(content)  # a streamed chat shows cached replies too
            return response
        response = await self.client.create(request)
        stored = {
            "message": response.message, "model": response.model, "prompt_tokens": response.prompt_tokens,
            "completion_tokens": response.completion_tokens, "cost": response.cost,
        }
        if response.choices is not None:
            stored["choices"] = response.choices
        self.cache.set(key, stored)
        return response
