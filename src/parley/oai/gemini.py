"""Classic module path ``autogen.oai.gemini``.

parley has no Gemini provider of its own (classic's was built on the ``google-generativeai``
package). Gemini answers OpenAI-shaped requests at its OpenAI-compatible endpoint, which is how
to use it with parley::

    {"model": "gemini-1.5-flash", "api_key": "<GEMINI_API_KEY>",
     "base_url": "https://generativelanguage.googleapis.com/v1beta/openai/"}
"""

from __future__ import annotations

from typing import Any

_HOW = ("parley has no Gemini client (classic's needed the 'google-generativeai' package); use Gemini's "
        "OpenAI-compatible endpoint instead: a config entry {'model': 'gemini-1.5-flash', 'api_key': ..., "
        "'base_url': 'https://generativelanguage.googleapis.com/v1beta/openai/'}")


class GeminiClient:
    """Classic's Gemini client: not available in parley; making one says what to use instead."""

    def __init__(self, **kwargs: Any) -> None:
        raise ImportError(_HOW)


__all__ = ["GeminiClient"]
