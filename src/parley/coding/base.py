"""Classic module path ``autogen.coding.base``: code blocks, results and the executor protocol."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..code.base import CodeBlock, CodeExecutor, CodeResult

# Classic had a subclass carrying the saved file's path; parley's CodeResult has ``code_file``.
CommandLineCodeResult = CodeResult


@runtime_checkable
class CodeExtractor(Protocol):
    """Finds code blocks in a message (``MarkdownCodeExtractor`` finds fenced blocks)."""

    def extract_code_blocks(self, message: Any) -> list[CodeBlock]: ...


__all__ = ["CodeBlock", "CodeResult", "CodeExecutor", "CodeExtractor", "CommandLineCodeResult"]
