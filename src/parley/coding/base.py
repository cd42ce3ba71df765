"""Classic module path ``autogen.coding.base``."""

from ..code.base import CodeBlock, CodeExecutor, CodeResult

__all__ = ["CodeBlock", "CodeResult", "CodeExecutor"]
