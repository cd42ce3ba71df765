"""The model-client protocol every provider implements.

A client turns a :class:`ModelRequest` (OpenAI-shaped messages plus options) into a
:class:`ModelResponse` (one assistant message plus usage). Providers live one per module
(``openai.py``, ``anthropic.py``, ``local.py``, ``scripted.py``); wrappers (``retry.py``,
``failover.py``, ``cached.py``, ``accounting.py``) compose around any client because they speak
the same protocol, and ``OpenAIWrapper`` composes them for each config list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError
from ..errors import ModelError as ModelError  # defined in the one exception tree; imported from here by the providers


@dataclass(slots=True)
class ModelRequest:
    """What an agent asks a model for."""

    messages: list[dict]
    """OpenAI-shaped chat messages; the first is the system message when there is one."""
    tools: list[dict] | None = None
    """OpenAI tool schemas (``{"type": "function", "function": {...}}``) the model may call."""
    response_format: dict | None = None
    """``{"type": "json_schema", "json_schema": {"name", "schema"}}`` or ``{"type": "json_object"}``."""
    params: dict = field(default_factory=dict)
    """Other generation options (temperature, max_tokens, seed, stop, ...), passed through."""
    stream: bool = False
    """Deliver tokens through ``on_token`` while generating; the final message is the same."""
    on_token: Callable[[str], None] | None = None
    """Called with each streamed text fragment when ``stream`` is true."""
    functions: list[dict] | None = None
    """Classic's legacy function schemas (``llm_config["functions"]``). Each is in ``tools`` too,
    for providers without the legacy API; clients that have it (OpenAI) send these as
    ``functions`` instead, and the model answers with a ``function_call``."""
    agent: str | None = None
    """The name of the agent asking (for accounting and events; not sent)."""
    purpose: str = "reply"
    """Why it asks: ``"reply"``, ``"summary"``, ``"speaker_selection"``, ... (for accounting and events; not sent)."""

    def tools_besides_functions(self) -> list[dict]:
        """``tools`` without the ones standing for the legacy ``functions``, for clients that send those as such."""
        names = {function.get("name") for function in self.functions or ()}
        return [tool for tool in self.tools or () if tool.get("function", {}).get("name") not in names]


@dataclass(slots=True)
class ModelResponse:
    """One completion."""

    message: dict
    """The assistant message: ``{"role": "assistant", "content": str|None, "tool_calls"?: [...]}``."""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cached: bool = False
    raw: Any = None
    """The provider's own response object, for users who need it."""
    choices: list[dict] | None = None
    """Every choice's message when several were asked for (``n``); ``message`` is the first."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class ModelClient(Protocol):
    """A model provider. ``create`` is async: the engine is async, the sync API a facade."""

    async def create(self, request: ModelRequest) -> ModelResponse: ...


class ModelConfigError(ConfigError):
    """An ``llm_config`` or config-list entry is invalid; the message names the field."""


class MissingPackageError(ModelConfigError):
    """An entry needs a package that is not installed (a provider SDK, llama-cpp-python); the
    message says what to pip install. Raised when a request is made, not when the agent is built."""
