"""Message transforms for ``TransformMessages`` (and a group chat's speaker selection).

A transform has ``apply_transform(messages) -> messages`` and ``get_logs(before, after) ->
(text, had_effect)``. ``MessageHistoryLimiter`` keeps the last messages; ``MessageTokenLimiter``
cuts long messages and drops the oldest ones to fit a token budget (counted as
``parley.token_count_utils`` counts); ``TextMessageCompressor`` compresses texts with a
``TextCompressor``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Protocol, runtime_checkable

from ....messages import content_str
from ....models.config import filter_config
from ....token_count_utils import _encoding, count_token

logger = logging.getLogger(__name__)


@runtime_checkable
class MessageTransform(Protocol):
    def apply_transform(self, messages: list[dict]) -> list[dict]: ...

    def get_logs(self, pre_transform_messages: list[dict], post_transform_messages: list[dict]) -> tuple[str, bool]: ...


def _matches(message: dict, filter_dict: dict | None, exclude: bool) -> bool:
    """Whether a transform applies to ``message`` given its ``filter_dict`` (None: all do)."""
    if not filter_dict:
        return True
    return bool(filter_config([message], filter_dict, exclude))


class MessageHistoryLimiter:
    """Keeps only the last ``max_messages`` messages (and the first one, with ``keep_first_message``).

    The kept part never starts with a tool response whose call was cut off: a model API refuses
    that.
    """

    def __init__(self, max_messages: int | None = None, keep_first_message: bool = False) -> None:
        if max_messages is not None and (not isinstance(max_messages, int) or max_messages < 1):
            raise ValueError(f"MessageHistoryLimiter max_messages must be None or a positive int, got {max_messages!r}")
        self._max_messages = max_messages
        self._keep_first_message = keep_first_message

    def apply_transform(self, messages: list[dict]) -> list[dict]:
        if self._max_messages is None or len(messages) <= self._max_messages:
            return messages
        first = messages[:1] if self._keep_first_message else []
        kept = messages[len(messages) - (self._max_messages - len(first)):] if self._max_messages > len(first) else []
        while kept and kept[0].get("role") == "tool":
            kept = kept[1:]
        return first + kept

    def get_logs(self, pre_transform_messages: list[dict], post_transform_messages: list[dict]) -> tuple[str, bool]:
        before, after = len(pre_transform_messages), len(post_transform_messages)
        if after < before:
            return f"Removed {before - after} messages. Number of messages reduced from {before} to {after}.", True
        return "No messages were removed.", False


class MessageTokenLimiter:
    """Cuts each message to ``max_tokens_per_message`` and keeps the newest messages that fit in
    ``max_tokens`` in all; does nothing while the messages total fewer than ``min_tokens``.
    ``filter_dict`` (with ``exclude_filter``) selects the messages it applies to."""

    def __init__(self, max_tokens_per_message: int | None = None, max_tokens: int | None = None,
                 min_tokens: int | None = None, model: str = "gpt-3.5-turbo-0613", filter_dict: dict | None = None,
                 exclude_filter: bool = True) -> None:
        for name, value in (("max_tokens_per_message", max_tokens_per_message), ("max_tokens", max_tokens),
                            ("min_tokens", min_tokens)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"MessageTokenLimiter {name} must be None or a non-negative int, got {value!r}")
        if max_tokens is not None and min_tokens is not None and min_tokens > max_tokens:
            raise ValueError(f"MessageTokenLimiter min_tokens ({min_tokens}) must not exceed max_tokens ({max_tokens})")
        self._max_tokens_per_message = max_tokens_per_message
        self._max_tokens = max_tokens
        self._min_tokens = min_tokens
        self._model = model
        self._filter_dict = filter_dict
        self._exclude_filter = exclude_filter

    def _tokens(self, content: Any) -> int:
        return count_token(content_str(content) if not isinstance(content, str) else content, self._model)

    def _truncate(self, text: str) -> str:
        if self._max_tokens_per_message is None:
            return text
        encoding = _encoding(self._model)
        if encoding is None:  # no tokenizer: 4 characters a token
            return text[: self._max_tokens_per_message * 4]
        tokens = encoding.encode(text, disallowed_special=())
        return text if len(tokens) <= self._max_tokens_per_message else encoding.decode(tokens[: self._max_tokens_per_message])

    def apply_transform(self, messages: list[dict]) -> list[dict]:
        if not messages:
            return messages
        if self._min_tokens is not None and sum(self._tokens(m.get("content")) for m in messages) < self._min_tokens:
            return messages
        kept: list[dict] = []
        total = 0
        for message in reversed(messages):
            message = copy.copy(message)
            if _matches(message, self._filter_dict, self._exclude_filter):
                content = message.get("content")
                if isinstance(content, str):
                    message["content"] = self._truncate(content)
                elif isinstance(content, list):
                    message["content"] = [
                        {**part, "text": self._truncate(part["text"])}
                        if isinstance(part, dict) and part.get("type") == "text" else part
                        for part in content
                    ]
            tokens = self._tokens(message.get("content"))
            if self._max_tokens is not None and total + tokens > self._max_tokens:
                break
            total += tokens
            kept.append(message)
        kept.reverse()
        return kept

    def get_logs(self, pre_transform_messages: list[dict], post_transform_messages: list[dict]) -> tuple[str, bool]:
        before = sum(self._tokens(m.get("content")) for m in pre_transform_messages)
        after = sum(self._tokens(m.get("content")) for m in post_transform_messages)
        if after < before:
            return f"Truncated {before - after} tokens. Number of tokens reduced from {before} to {after}", True
        return "No tokens were truncated.", False


class TextMessageCompressor:
    """Compresses message texts with ``text_compressor`` (default ``LLMLingua``, which needs the
    ``llmlingua`` package); ``min_tokens`` and ``filter_dict`` as for ``MessageTokenLimiter``."""

    def __init__(self, text_compressor: Any = None, min_tokens: int | None = None, compression_params: dict | None = None,
                 cache: Any = None, filter_dict: dict | None = None, exclude_filter: bool = True) -> None:
        if text_compressor is None:
            from .text_compressors import LLMLingua

            text_compressor = LLMLingua()
        self._compressor = text_compressor
        self._min_tokens = min_tokens
        self._params = dict(compression_params or {})
        self._cache = cache
        self._filter_dict = filter_dict
        self._exclude_filter = exclude_filter

    def _compress(self, text: str) -> str:
        key = f"compressed:{text}"
        if self._cache is not None:
            hit = self._cache.get(key, None)
            if hit is not None:
                return hit
        result = self._compressor.compress_text(text, **self._params)
        compressed = result.get("compressed_prompt", text) if isinstance(result, dict) else str(result)
        if self._cache is not None:
            self._cache.set(key, compressed)
        return compressed

    def apply_transform(self, messages: list[dict]) -> list[dict]:
        if self._min_tokens is not None and sum(count_token(content_str(m.get("content"))) for m in messages) < self._min_tokens:
            return messages
        out = []
        for message in messages:
            message = copy.copy(message)
            if _matches(message, self._filter_dict, self._exclude_filter) and isinstance(message.get("content"), str):
                message["content"] = self._compress(message["content"])
            out.append(message)
        return out

    def get_logs(self, pre_transform_messages: list[dict], post_transform_messages: list[dict]) -> tuple[str, bool]:
        before = sum(count_token(content_str(m.get("content"))) for m in pre_transform_messages)
        after = sum(count_token(content_str(m.get("content"))) for m in post_transform_messages)
        if after < before:
            return f"{before - after} tokens saved with text compression.", True
        return "No tokens saved with text compression.", False


__all__ = ["MessageHistoryLimiter", "MessageTokenLimiter", "MessageTransform", "TextMessageCompressor"]
