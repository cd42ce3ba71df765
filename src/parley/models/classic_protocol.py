"""Classic AutoGen's model-client protocol on top of parley's clients.

Classic clients (``autogen.oai.client.OpenAIClient``, ``autogen.oai.anthropic.AnthropicClient``)
take OpenAI-shaped ``params`` in ``create`` and answer a ChatCompletion, with
``message_retrieval``, ``cost`` and ``get_usage`` beside it. :class:`ClassicClient` gives that
face to any parley :class:`~parley.models.protocol.ModelClient` built from a config entry, so the
provider code (keys, retries, redaction, tool translation) is parley's own.
"""

from __future__ import annotations

from typing import Any

from .protocol import ModelClient, ModelRequest

# Request fields that are not generation parameters (classic's params carry them all).
_REQUEST_FIELDS = ("messages", "tools", "functions", "response_format", "stream", "model", "prompt")


class ClassicClient:
    """A classic-protocol client: ``config`` holds the entry's endpoint fields (``api_key``,
    ``base_url``, ...); each ``create(params)`` names its ``model``."""

    api_type = "openai"

    def __init__(self, **config: Any) -> None:
        self._config = {k: v for k, v in config.items() if v is not None}
        self._clients: dict[str, ModelClient] = {}

    def _client(self, model: str) -> ModelClient:
        client = self._clients.get(model)
        if client is None:
            from .providers import build_client

            client = self._clients[model] = build_client({**self._config, "api_type": self.api_type, "model": model}, defer=False)
        return client

    def create(self, params: dict[str, Any]) -> Any:
        """A ChatCompletion for OpenAI-shaped ``params`` (``messages`` or a legacy ``prompt``)."""
        from .._sync import run_sync
        from .completion import to_chat_completion
        from .wrapper import offered_tools

        model = params.get("model") or self._config.get("model")
        if not isinstance(model, str) or not model:
            raise ValueError(f"{type(self).__name__}.create: params must name the 'model'")
        messages = params.get("messages")
        if messages is None and isinstance(params.get("prompt"), str):
            messages = [{"role": "user", "content": params["prompt"]}]
        if not isinstance(messages, list):
            raise TypeError(f"{type(self).__name__}.create needs params['messages'] (a list of messages)")
        functions = params.get("functions")
        request = ModelRequest(
            messages,
            offered_tools({"tools": params.get("tools"), "functions": functions}),
            params.get("response_format"),
            {k: v for k, v in params.items() if k not in _REQUEST_FIELDS},
            functions=functions,
        )
        response = run_sync(self._client(model).create(request))
        if not response.model:
            response.model = model
        if not response.cost:
            from . import pricing

            response.cost = pricing.cost(
                response.model, response.prompt_tokens, response.completion_tokens, self._config.get("price"))
        return to_chat_completion(response)

    @staticmethod
    def message_retrieval(response: Any) -> list:
        """Each choice's text, or its message when it calls tools or a function."""
        from .completion import extract_text_or_completion_object

        return extract_text_or_completion_object(response)

    @staticmethod
    def cost(response: Any) -> float:
        return float(getattr(response, "cost", 0.0) or 0.0)

    @staticmethod
    def get_usage(response: Any) -> dict:
        usage = getattr(response, "usage", None)
        return {
            "prompt_tokens": getattr(usage, "prompt_tokens", 0) or 0,
            "completion_tokens": getattr(usage, "completion_tokens", 0) or 0,
            "total_tokens": getattr(usage, "total_tokens", 0) or 0,
            "cost": getattr(response, "cost", 0.0) or 0.0,
            "model": getattr(response, "model", ""),
        }
