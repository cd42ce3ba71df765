"""Classic module path ``autogen.logger.logger_factory``."""

from . import LoggerFactory

__all__ = ["LoggerFactory"]
