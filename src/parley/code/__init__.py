"""Code execution: finding code blocks in messages and running them with an executor.

Every executor has ``work_dir``, ``execute_code_blocks(blocks) -> CodeResult`` and ``restart()``:
``LocalCommandLineCodeExecutor`` (this machine, unsandboxed), ``SandboxCodeExecutor``
(bubblewrap), ``JupyterCodeExecutor`` (an IPython kernel), ``DockerCommandLineCodeExecutor``.
``executor_from_config`` picks one from a classic ``code_execution_config``.
"""

from importlib import import_module

from parley.code.base import CodeBlock, CodeExecutor, CodeResult, ExecutorSetupError
from parley.code.extraction import CODE_BLOCK_PATTERN, UNKNOWN, extract_code, extract_code_blocks, infer_lang
from parley.code.factory import executor_from_config

# Executors load on first use, so that agents importing this package stay cheap to import.
_LAZY = {
    "DockerCommandLineCodeExecutor": "parley.code.docker_executor",
    "JupyterCodeExecutor": "parley.code.jupyter_executor",
    "JupyterCodeResult": "parley.code.jupyter_executor",
    "LocalCommandLineCodeExecutor": "parley.code.local",
    "SandboxCodeExecutor": "parley.code.sandbox",
    "create_virtual_env": "parley.code.local",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'parley.code' has no attribute {name!r}")


__all__ = [
    "CODE_BLOCK_PATTERN",
    "UNKNOWN",
    "CodeBlock",
    "CodeExecutor",
    "CodeResult",
    "DockerCommandLineCodeExecutor",
    "ExecutorSetupError",
    "JupyterCodeExecutor",
    "JupyterCodeResult",
    "LocalCommandLineCodeExecutor",
    "SandboxCodeExecutor",
    "create_virtual_env",
    "executor_from_config",
    "extract_code",
    "extract_code_blocks",
    "infer_lang",
]
