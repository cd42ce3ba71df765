"""Splitting documents into chunks of at most ``max_tokens`` tokens (classic's modes and names).

- ``multi_lines`` (default): consecutive pieces are packed into a chunk while it fits. The pieces
  are paragraphs (text between empty lines) when ``must_break_at_empty_line``, else lines. A piece
  too long for a chunk is split at lines, then between words.
- ``one_line``: each line is a chunk (long lines split between words).

Chunks shorter than ``RAG_MINIMUM_MESSAGE_LENGTH`` characters (default 5) are dropped.
Tokens are counted with ``token_count_utils.count_token`` (tiktoken when installed).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator

from ..token_count_utils import count_token
from .documents import read_document

logger = logging.getLogger(__name__)

VALID_CHUNK_MODES = frozenset({"one_line", "multi_lines"})
RAG_MINIMUM_MESSAGE_LENGTH = int(os.environ.get("RAG_MINIMUM_MESSAGE_LENGTH", 5))


def _split_long(piece: str, max_tokens: int, count: Callable[[str], int]) -> Iterator[str]:
    """Parts of ``piece`` that fit: by lines first, then by words, then (a word longer than a chunk) by characters."""
    for separator in ("\n", " "):
        parts = piece.split(separator)
        if len(parts) > 1:
            current: list[str] = []
            for part in parts:
                candidate = separator.join([*current, part])
                if current and count(candidate) > max_tokens:
                    yield from _fit(separator.join(current), max_tokens, count)
                    current = [part]
                else:
                    current.append(part)
            if current:
                yield from _fit(separator.join(current), max_tokens, count)
            return
    # One word: cut by characters, about four to a token.
    width = max(max_tokens * 4, RAG_MINIMUM_MESSAGE_LENGTH)
    for start in range(0, len(piece), width):
        yield piece[start:start + width]


def _fit(piece: str, max_tokens: int, count: Callable[[str], int]) -> Iterator[str]:
    if count(piece) <= max_tokens:
        yield piece
    else:
        yield from _split_long(piece, max_tokens, count)


def split_text_to_chunks(text: str, max_tokens: int = 4000, chunk_mode: str = "multi_lines",
                         must_break_at_empty_line: bool = True, overlap: int = 0) -> list[str]:
    """Split ``text`` into chunks of at most ``max_tokens`` tokens; ``overlap``: pieces repeated at the
    start of the next chunk (multi_lines)."""
    if chunk_mode not in VALID_CHUNK_MODES:
        raise ValueError(f"chunk_mode must be one of {', '.join(sorted(VALID_CHUNK_MODES))}, got {chunk_mode!r}")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"chunk_token_size (max_tokens) must be a positive int, got {max_tokens!r}")
    if not isinstance(overlap, int) or overlap < 0:
        raise ValueError(f"overlap must be a non-negative int, got {overlap!r}")

    def count(s: str) -> int:
        return count_token(s)

    chunks: list[str] = []
    if chunk_mode == "one_line":
        pieces = [line for line in text.split("\n") if line.strip()]
        chunks = [part for line in pieces for part in _fit(line, max_tokens, count)]
    else:
        if must_break_at_empty_line:
            pieces = [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
        else:
            pieces = [line for line in text.split("\n") if line.strip()]
        separator = "\n\n" if must_break_at_empty_line else "\n"
        fitted = [part for piece in pieces for part in _fit(piece, max_tokens, count)]
        current: list[str] = []
        current_tokens = 0
        for piece in fitted:
            size = count(piece)
            # A separator costs about a token.
            if current and current_tokens + size + 1 > max_tokens:
                chunks.append(separator.join(current))
                kept = current[-overlap:] if overlap else []
                while kept and sum(count(p) + 1 for p in kept) + size > max_tokens:
                    kept = kept[1:]
                current, current_tokens = kept, sum(count(p) + 1 for p in kept)
            current.append(piece)
            current_tokens += size + 1
        if current:
            chunks.append(separator.join(current))
    return [c.strip() for c in chunks if len(c.strip()) >= RAG_MINIMUM_MESSAGE_LENGTH]


def split_files_to_chunks(files: list, max_tokens: int = 4000, chunk_mode: str = "multi_lines",
                          must_break_at_empty_line: bool = True,
                          custom_text_split_function: Callable[[str], list[str]] | None = None) -> tuple[list[str], list[dict]]:
    """Chunks of the files (paths, or ``(path, url)`` pairs from downloads) and, per chunk, ``{"source": path or url}``."""
    chunks: list[str] = []
    sources: list[dict] = []
    for item in files:
        path, source = (item[0], item[1]) if isinstance(item, tuple) else (item, item)
        text = read_document(path)
        if not text.strip():
            logger.warning("no text in %s", source)
            continue
        if custom_text_split_function is not None:
            pieces = list(custom_text_split_function(text))
        else:
            pieces = split_text_to_chunks(text, max_tokens, chunk_mode, must_break_at_empty_line)
        chunks.extend(pieces)
        sources.extend({"source": source} for _ in pieces)
    return chunks, sources


__all__ = ["RAG_MINIMUM_MESSAGE_LENGTH", "VALID_CHUNK_MODES", "split_files_to_chunks", "split_text_to_chunks"]
