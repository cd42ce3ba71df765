"""Classic module path ``autogen.logger.file_logger``: the runtime log as JSON lines in a file."""

from ..runtime_logging import FileLogger

__all__ = ["FileLogger"]
