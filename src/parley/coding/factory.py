"""Classic module path ``autogen.coding.factory``: ``CodeExecutorFactory.create(config)``."""

from __future__ import annotations

from ..code.base import CodeExecutor
from ..code.factory import _EXECUTOR_NAMES, executor_from_config


class CodeExecutorFactory:
    """Builds the executor a ``code_execution_config`` names in its ``executor`` key."""

    @staticmethod
    def create(code_execution_config: dict) -> CodeExecutor:
        """The executor for ``code_execution_config["executor"]``: an executor object, or one of
        the names ``commandline-local``, ``commandline-docker``, ``ipython-embedded``,
        ``jupyter-local``, ``local``, ``sandbox``, ``jupyter``, ``docker`` (options under that name)."""
        executor = code_execution_config.get("executor")
        # a known name, or an executor object
        if executor in _EXECUTOR_NAMES if isinstance(executor, str) else executor is not None:
            return executor_from_config(code_execution_config)
        raise ValueError(f"Unknown code executor {executor}; choose one of {sorted(_EXECUTOR_NAMES)} or pass an executor")


__all__ = ["CodeExecutorFactory"]
