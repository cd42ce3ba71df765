"""Classic module path ``autogen.coding.local_commandline_code_executor``."""

from ..code.local import LocalCommandLineCodeExecutor

__all__ = ["LocalCommandLineCodeExecutor"]
