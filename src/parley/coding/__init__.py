"""Classic module path ``autogen.coding``: code blocks, results and executors."""

from __future__ import annotations

from typing import Any

__all__ = ["CodeBlock", "CodeResult", "CodeExecutor", "LocalCommandLineCodeExecutor", "SandboxCodeExecutor",
           "JupyterCodeExecutor", "DockerCommandLineCodeExecutor"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from .. import code

        return getattr(code, name)
    raise AttributeError(f"module 'parley.coding' has no attribute {name!r}")
