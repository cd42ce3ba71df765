"""Classic module path ``autogen.oai.client``."""

from __future__ import annotations

from typing import Any

from ..models.classic_protocol import ClassicClient
from ..models.protocol import ModelClient
from ..models.wrapper import OpenAIWrapper

# Classic flags and defaults scripts import: every supported SDK can call tools; classic's
# default cache (seed 41 in ".cache") which parley uses only when asked (cache_seed / cache).
TOOL_ENABLED = True
LEGACY_DEFAULT_CACHE_SEED = 41
LEGACY_CACHE_DIR = ".cache"


class OpenAIClient(ClassicClient):
    """Classic ``OpenAIClient(client)``: classic's client protocol around an openai SDK client
    (``openai.OpenAI`` or ``openai.AzureOpenAI``), which makes the requests."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._oai_client = client

    def create(self, params: dict[str, Any]) -> Any:
        """The SDK's ChatCompletion for ``params`` (a legacy ``prompt`` is sent as the user's
        message), with classic's ``cost`` set from parley's price table."""
        from ..models import pricing

        params = dict(params)
        if "messages" not in params and isinstance(params.get("prompt"), str):
            params["messages"] = [{"role": "user", "content": params.pop("prompt")}]
        params.pop("stream", None)  # one answer; OpenAIWrapper(stream=True) streams to the console
        response = self._oai_client.chat.completions.create(**params)
        usage = getattr(response, "usage", None)
        response.cost = pricing.cost(response.model, getattr(usage, "prompt_tokens", 0) or 0,
                                     getattr(usage, "completion_tokens", 0) or 0)
        return response


__all__ = ["LEGACY_CACHE_DIR", "LEGACY_DEFAULT_CACHE_SEED", "TOOL_ENABLED", "ModelClient", "OpenAIClient", "OpenAIWrapper"]
