"""Keeping long output to a bounded size: the head and the tail, with a marker for the cut."""

from __future__ import annotations

# Slack for one cut marker, so output cut once per block is not cut again when blocks are joined.
MARKER_ROOM = 64


def cut_marker(cut_bytes: int) -> str:
    return f"\n[... {cut_bytes} bytes of output cut ...]\n"


# Encoding and decoding use Python's fixed default, UTF-8 (never the locale's).


class BoundedOutput:
    """Collects a process's output in constant memory.

    Keeps the first and the last ``limit // 2`` bytes (a program's start and its final error
    both matter) and counts what falls in between.
    """

    __slots__ = ("limit", "_head", "_tail", "total")

    def __init__(self, limit: int) -> None:
        if limit < 2:
            raise ValueError(f"max_output_bytes must be at least 2, got {limit}")
        self.limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit // 2 - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            keep = self.limit - self.limit // 2
            # Trim only when the tail has doubled, so trimming stays amortized O(1) per byte.
            if len(self._tail) > 2 * keep:
                del self._tail[:-keep]

    def text(self) -> str:
        keep = self.limit - self.limit // 2
        tail = bytes(self._tail[-keep:])  # the whole tail when it is shorter
        kept = len(self._head) + len(tail)
        if kept >= self.total:
            return (bytes(self._head) + tail).decode(errors="replace")
        return (
            self._head.decode(errors="replace")
            + cut_marker(self.total - kept)
            + tail.decode(errors="replace")
        )


def truncate_text(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` bytes the same way (used on the concatenated output)."""
    data = text.encode(errors="replace")
    if len(data) <= limit:
        return text
    bounded = BoundedOutput(limit)
    bounded.write(data)
    return bounded.text()
