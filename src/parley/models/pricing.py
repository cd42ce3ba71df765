"""Model prices and the cost of a call.

Prices are USD per 1,000 tokens, ``(prompt, completion)``, from the providers' public price
pages. A config entry's ``price: [prompt_per_1k, completion_per_1k]`` overrides the table;
a model in neither costs 0 (local and self-hosted models).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .protocol import ModelConfigError

PRICES_PER_1K: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-4o": (0.0025, 0.01),
    "gpt-4o-mini": (0.00015, 0.0006),
    "gpt-4.1": (0.002, 0.008),
    "gpt-4.1-mini": (0.0004, 0.0016),
    "gpt-4.1-nano": (0.0001, 0.0004),
    "gpt-4-turbo": (0.01, 0.03),
    "gpt-4": (0.03, 0.06),
    "gpt-4-32k": (0.06, 0.12),
    "gpt-3.5-turbo": (0.0005, 0.0015),
    "gpt-35-turbo": (0.0005, 0.0015),  # Azure's spelling
    "o1": (0.015, 0.06),
    "o1-mini": (0.0011, 0.0044),
    "o3-mini": (0.0011, 0.0044),
    # Anthropic
    "claude-3-5-sonnet": (0.003, 0.015),
    "claude-3-7-sonnet": (0.003, 0.015),
    "claude-sonnet-4": (0.003, 0.015),
    "claude-3-5-haiku": (0.0008, 0.004),
    "claude-3-haiku": (0.00025, 0.00125),
    "claude-3-sonnet": (0.003, 0.015),
    "claude-3-opus": (0.015, 0.075),
    "claude-opus-4": (0.015, 0.075),
    # OpenAI-compatible hosted
    "deepseek-chat": (0.00027, 0.0011),
    "deepseek-reasoner": (0.00055, 0.00219),
}


@lru_cache(maxsize=512)  # looked up on every call: keep it off the hot path
def price_for(model: str) -> tuple[float, float] | None:
    """The table price of ``model``: an exact name, or the longest name it extends with ``-``
    (``gpt-4o-2024-08-06`` → ``gpt-4o``; ``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``)."""
    if model in PRICES_PER_1K:
        return PRICES_PER_1K[model]
    best = None
    for name in PRICES_PER_1K:
        if model.startswith(name + "-") and (best is None or len(name) > len(best)):
            best = name
    return PRICES_PER_1K[best] if best else None


def parse_price(price: Any, where: str = "price") -> tuple[float, float]:
    """Validate a config ``price``: two non-negative numbers, per 1k prompt and completion tokens."""
    if (
        not isinstance(price, (list, tuple))
        or len(price) != 2
        or not all(isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0 for p in price)
    ):
        raise ModelConfigError(
            f"{where} must be [prompt_price_per_1k, completion_price_per_1k] (two numbers >= 0), got {price!r}"
        )
    return float(price[0]), float(price[1])


def cost(model: str, prompt_tokens: int, completion_tokens: int, price: Any = None) -> float:
    """USD cost of one call; ``price`` (from the config entry) wins over the table."""
    per_1k = parse_price(price) if price is not None else price_for(model)
    if per_1k is None:
        return 0.0
    return (prompt_tokens * per_1k[0] + completion_tokens * per_1k[1]) / 1000
