"""Classic module path ``autogen.oai.anthropic``: ``AnthropicClient`` on parley's Anthropic
provider (the official ``anthropic`` SDK, extra ``[anthropic]``). In an llm_config, an entry
with ``"api_type": "anthropic"`` is the usual way to use it."""

from __future__ import annotations

from ..models.classic_protocol import ClassicClient


class AnthropicClient(ClassicClient):
    """``AnthropicClient(api_key=..., base_url=...)``; ``create(params)`` takes OpenAI-shaped
    params (``model``, ``messages``, ``tools``, ...) and answers a ChatCompletion."""

    api_type = "anthropic"


__all__ = ["AnthropicClient"]
