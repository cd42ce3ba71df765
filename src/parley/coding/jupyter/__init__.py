"""Classic module path ``autogen.coding.jupyter``: code run in an IPython kernel.

``JupyterCodeExecutor`` and ``EmbeddedIPythonCodeExecutor`` both start a local kernel
(``pip install 'parley[jupyter]'``). Classic's ``JupyterCodeExecutor`` could also talk to a
remote Jupyter server (``LocalJupyterServer``, ``JupyterConnectionInfo``); parley does not yet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...code.jupyter_executor import JupyterCodeExecutor, JupyterCodeResult

IPythonCodeResult = JupyterCodeResult


class EmbeddedIPythonCodeExecutor(JupyterCodeExecutor):
    """Classic signature: images and HTML the kernel displays are saved under ``output_dir``."""

    def __init__(self, timeout: float = 60, kernel_name: str = "python3", output_dir: str | os.PathLike = Path("."),
                 **kwargs: Any) -> None:
        super().__init__(timeout=timeout, work_dir=output_dir, kernel_name=kernel_name, **kwargs)

    @property
    def output_dir(self) -> Path:
        return Path(self.work_dir)


__all__ = ["EmbeddedIPythonCodeExecutor", "IPythonCodeResult", "JupyterCodeExecutor"]
