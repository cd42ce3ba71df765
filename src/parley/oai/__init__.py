"""Classic module path ``autogen.oai``: the model wrapper and config-list helpers."""

from __future__ import annotations

from typing import Any

__all__ = ["OpenAIWrapper", "ModelClient", "DEFAULT_AZURE_API_VERSION", "config_list_from_json", "config_list_from_models",
           "config_list_openai_aoai", "config_list_from_dotenv", "filter_config", "get_config_list"]


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_AZURE_API_VERSION":
        from ..models.config import DEFAULT_AZURE_API_VERSION

        return DEFAULT_AZURE_API_VERSION
    if name in __all__:
        import parley

        return getattr(parley, name)
    raise AttributeError(f"module 'parley.oai' has no attribute {name!r}")
