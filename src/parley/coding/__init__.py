"""Classic module path ``autogen.coding``: code blocks, results, extractors and executors.

Names load on first use, so that ``import parley.coding`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CodeBlock": "parley.code.base",
    "CodeResult": "parley.code.base",
    "CodeExecutor": "parley.code.base",
    "CommandLineCodeResult": "parley.coding.base",
    "CodeExtractor": "parley.coding.base",
    "LocalCommandLineCodeExecutor": "parley.code.local",
    "SandboxCodeExecutor": "parley.code.sandbox",
    "DockerCommandLineCodeExecutor": "parley.code.docker_executor",
    "JupyterCodeExecutor": "parley.code.jupyter_executor",
    "EmbeddedIPythonCodeExecutor": "parley.coding.jupyter",
    "IPythonCodeResult": "parley.coding.jupyter",
    "MarkdownCodeExtractor": "parley.coding.markdown_code_extractor",
    "CodeExecutorFactory": "parley.coding.factory",
    "FunctionWithRequirements": "parley.coding.func_with_reqs",
    "with_requirements": "parley.coding.func_with_reqs",
    "Alias": "parley.coding.func_with_reqs",
    "ImportFromModule": "parley.coding.func_with_reqs",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'parley.coding' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
