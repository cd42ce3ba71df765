"""Classic module path ``autogen.coding.markdown_code_extractor``."""

from __future__ import annotations

from ..code.base import CodeBlock
from ..code.extraction import UNKNOWN, extract_code_blocks


class MarkdownCodeExtractor:
    """Finds the fenced code blocks of a message (the classic extractor object)."""

    def extract_code_blocks(self, message: str | list | None) -> list[CodeBlock]:
        # A block whose language cannot be told has language "" here (classic), "unknown" elsewhere.
        return [CodeBlock(code=b.code, language="") if b.language == UNKNOWN else b for b in extract_code_blocks(message)]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


__all__ = ["MarkdownCodeExtractor"]
