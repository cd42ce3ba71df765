"""Classic module path ``autogen.coding.markdown_code_extractor``."""

from __future__ import annotations

from ..code.base import CodeBlock
from ..code.extraction import extract_code_blocks


class MarkdownCodeExtractor:
    """Finds the fenced code blocks of a message (the classic extractor object)."""

    def extract_code_blocks(self, message: str | list | None) -> list[CodeBlock]:
        return extract_code_blocks(message)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


__all__ = ["MarkdownCodeExtractor"]
