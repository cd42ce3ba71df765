"""Running code in a local IPython kernel (through jupyter_client): state kept across blocks.

Variables defined by one block are there for the next, until ``restart()``. Rich outputs are
saved as files in ``work_dir`` (PNG plots, HTML) and named in the output. The kernel runs on
this machine with the caller's rights: it is not a sandbox.
"""

from __future__ import annotations

import base64
import os
import queue
import re
import shutil
import tempfile
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from parley.code.base import (
    DEFAULT_MAX_OUTPUT_BYTES,
    SHELL_LANGUAGES,
    CodeBlock,
    CodeResult,
    ExecutorSetupError,
    normalize_language,
    prepare_work_dir,
    record_block,
)
from parley.code.commandline import TIMEOUT_EXIT_CODE, TIMEOUT_MSG, named_code_path
from parley.code.output import MARKER_ROOM, truncate_text
from parley.code.workspace import UnsafePathError, write_file

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_POLL_S = 0.5  # how often a silent wait checks that the kernel is still alive


@dataclass(slots=True)
class JupyterCodeResult(CodeResult):
    """A kernel's result, with the files its rich outputs were saved to."""

    output_files: list[str] = field(default_factory=list)
    """Images and HTML the code displayed, saved in ``work_dir``, in order."""


def _shutdown(kernel_manager, client, socket_dir: str) -> None:
    client.stop_channels()
    kernel_manager.shutdown_kernel(now=True)
    shutil.rmtree(socket_dir, ignore_errors=True)


class JupyterCodeExecutor:
    """Runs Python (and ``sh``/``bash`` through cell magics) in one IPython kernel."""

    executor_name = "jupyter"

    def __init__(
        self,
        timeout: float = 60,
        work_dir: str | os.PathLike = Path("."),
        *,
        kernel_name: str = "python3",
        startup_timeout: float = 60,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        """
        Args:
            timeout: seconds a block may run; then the kernel is interrupted (exit code 124).
            work_dir: the kernel's working directory, where displayed images are saved.
            kernel_name: the Jupyter kernel spec to start (default: this Python's ipykernel).
            startup_timeout: seconds to wait for the kernel to be ready.
            max_output_bytes: output beyond this is cut from the middle, with a marker.
        """
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        try:
            from jupyter_client import KernelManager
        except ImportError:
            raise ExecutorSetupError(
                "JupyterCodeExecutor needs jupyter_client and ipykernel. Fix: pip install 'parley[jupyter]'."
            ) from None
        self._work_dir = prepare_work_dir(work_dir)
        self.timeout = timeout
        self.max_output_bytes = max_output_bytes
        self._startup_timeout = startup_timeout
        # IPC sockets in a private directory: unlike loopback TCP, other local users cannot reach them.
        self._socket_dir = tempfile.mkdtemp(prefix="parley-kernel-")
        self._kernel_manager = KernelManager(
            kernel_name=kernel_name, transport="ipc", ip=os.path.join(self._socket_dir, "kernel")
        )
        try:
            self._kernel_manager.start_kernel(cwd=str(self._work_dir))
        except Exception as exc:  # no such kernel spec, ipykernel missing, ...
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise ExecutorSetupError(
                f"the Jupyter kernel {kernel_name!r} does not start: {exc}. "
                "Fix: pip install ipykernel (in the Python that should run the code), or pass kernel_name=<installed kernel>."
            ) from None
        self._client = self._kernel_manager.blocking_client()
        self._client.start_channels()
        self._wait_ready()
        self._finalizer = weakref.finalize(self, _shutdown, self._kernel_manager, self._client, self._socket_dir)

    @property
    def work_dir(self) -> Path:
        return self._work_dir

    def _wait_ready(self) -> None:
        try:
            self._client.wait_for_ready(timeout=self._startup_timeout)
        except RuntimeError as exc:
            raise ExecutorSetupError(f"the Jupyter kernel did not become ready: {exc}") from None

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> JupyterCodeResult:
        parts: list[str] = []
        files: list[str] = []
        exit_code = 0
        code_file = None
        for block in code_blocks:
            started = time.perf_counter()
            lang = normalize_language(block.language)
            try:
                if lang == "python":
                    cell = block.code
                elif lang in SHELL_LANGUAGES:
                    cell = f"%%{'bash' if lang == 'bash' else 'sh'}\n{block.code}"
                else:
                    raise ValueError(f"unknown language {lang}")
                path = named_code_path(self._work_dir, block.code)
            except ValueError as exc:
                exit_code, output = 1, str(exc)
            else:
                saved = None
                if path is not None:
                    try:
                        saved = write_file(self._work_dir, path, block.code.encode("utf-8", errors="surrogateescape"))
                    except UnsafePathError as exc:
                        exit_code, output = 1, str(exc)
                    except OSError as exc:
                        exit_code, output = 1, f"cannot save the code as {path} in the workspace: {exc.strerror or exc}"
                    code_file = code_file or (str(saved) if saved else None)
                if path is None or saved is not None:
                    exit_code, output = self._run_cell(cell, files)
            record_block(parts, block, lang, exit_code, output, self.executor_name, started)
            if exit_code != 0:
                break
        output = truncate_text("".join(parts), self.max_output_bytes + MARKER_ROOM)
        return JupyterCodeResult(exit_code=exit_code, output=output, code_file=code_file, output_files=files)

    def _run_cell(self, cell: str, files: list[str]) -> tuple[int, str]:
        msg_id = self._client.execute(cell, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + self.timeout
        pieces: list[str] = []
        exit_code = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TIMEOUT_EXIT_CODE, self._interrupt("".join(pieces))
            try:
                msg = self._client.get_iopub_msg(timeout=min(remaining, _POLL_S))
            except queue.Empty:
                if not self._kernel_manager.is_alive():
                    self.restart()
                    return 1, "".join(pieces) + "The kernel died; it was restarted, so earlier variables are gone.\n"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return exit_code, "".join(pieces)
            if kind == "stream":
                pieces.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                pieces.append(self._display(content["data"], files))
            elif kind == "error":
                exit_code = 1
                pieces.append(_ANSI_RE.sub("", "\n".join(content["traceback"])) + "\n")

    def _display(self, data: dict, files: list[str]) -> str:
        """Text for one displayed object; images and HTML go to files in work_dir."""
        if "image/png" in data:
            path = write_file(self._work_dir, f"{uuid.uuid4().hex}.png", base64.b64decode(data["image/png"]))
            files.append(str(path))
            return f"Image data saved to {path}\n"
        if "text/html" in data:
            html = data["text/html"].encode("utf-8", errors="surrogateescape")
            path = write_file(self._work_dir, f"{uuid.uuid4().hex}.html", html)
            files.append(str(path))
            return f"HTML data saved to {path}\n"
        return data.get("text/plain", "") + "\n"

    def _interrupt(self, output: str) -> str:
        """Stop a cell that ran too long; restart the kernel if it does not stop."""
        self._kernel_manager.interrupt_kernel()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                msg = self._client.get_iopub_msg(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return output + ("" if not output or output.endswith("\n") else "\n") + TIMEOUT_MSG
        self.restart()
        return output + ("" if not output or output.endswith("\n") else "\n") + TIMEOUT_MSG + " (the kernel was restarted)"

    def restart(self) -> None:
        """Restart the kernel: variables and imports are forgotten."""
        self._kernel_manager.restart_kernel(now=True)
        self._wait_ready()

    def stop(self) -> None:
        """Shut the kernel down (also done when the executor is garbage-collected or at exit)."""
        self._finalizer()

    def __enter__(self) -> JupyterCodeExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
