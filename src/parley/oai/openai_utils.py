"""Classic module path ``autogen.oai.openai_utils``."""

from ..models.config import (
    DEFAULT_AZURE_API_VERSION,
    config_list_from_dotenv,
    config_list_from_json,
    config_list_from_models,
    config_list_openai_aoai,
    filter_config,
    get_config_list,
)

__all__ = ["DEFAULT_AZURE_API_VERSION", "config_list_from_json", "config_list_from_models", "config_list_openai_aoai",
           "config_list_from_dotenv", "filter_config", "get_config_list"]
