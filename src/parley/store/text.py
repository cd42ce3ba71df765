"""Storing any string a Python program can hold, and reading back exactly that string.

A Python ``str`` may hold what no database text column takes: lone surrogates (``os.fsdecode``
of a non-UTF-8 file name gives ``"\\udcff"``), which are not UTF-8, and NUL, which Postgres
refuses. Such a string is stored escaped: ``ESCAPED`` (a Unicode noncharacter no ordinary text
starts with), then the string with ``\\`` doubled, NUL as ``\\0`` and each surrogate as
``\\uXXXX``. Everything else, which is nearly all text, is stored as it is, so the database stays
readable with any tool; a string that itself starts with ``ESCAPED`` is escaped too, so reading is
never ambiguous. JSON documents (messages) go through the same escape after ``json.dumps``: its
``\\uXXXX`` escapes cannot keep two lone surrogates apart from the character they would pair to.
"""

from __future__ import annotations

import re

ESCAPED = "\ufdd0"
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_UNSAFE_OR_MARKER = re.compile("[\x00\ud800-\udfff\ufdd0]")
_TO_ESCAPE = re.compile("[\\\\\x00\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(\\|0|u[0-9a-f]{4})")


def _escape_char(match: re.Match) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    if char == "\x00":
        return "\\0"
    return f"\\u{ord(char):04x}"


def _unescape_char(match: re.Match) -> str:
    code = match.group(1)
    if code == "\\":
        return "\\"
    if code == "0":
        return "\x00"
    return chr(int(code[1:], 16))


def escape(text: str) -> str:
    """``text`` as a database stores it: the same string unless it holds NUL or a surrogate (or
    starts with ``ESCAPED``). Cheap for the common case: an ASCII check, then one search."""
    if text.isascii():
        if "\x00" not in text:
            return text
    elif not text.startswith(ESCAPED) and _UNSAFE.search(text) is None:
        return text
    return ESCAPED + _TO_ESCAPE.sub(_escape_char, text)


def all_plain(text: str) -> bool:
    """Whether no part of ``text`` (say, many values joined) would be escaped: one scan in C, so
    that a batch of ordinary rows is checked at once rather than value by value."""
    if text.isascii():
        return "\x00" not in text
    return _UNSAFE_OR_MARKER.search(text) is None


def unescape(stored: str) -> str:
    """The string ``escape`` stored."""
    if stored.startswith(ESCAPED):
        return _ESCAPE.sub(_unescape_char, stored[1:])
    return stored


def escape_value(value: object) -> object:
    """``escape`` for a value of any type (only strings change)."""
    return escape(value) if isinstance(value, str) else value
