"""Running code on this machine, unsandboxed: what ``use_docker=False`` asks for."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

from parley.code.base import DEFAULT_MAX_OUTPUT_BYTES, ExecutorSetupError
from parley.code.commandline import SHELL_PROGRAMS, CommandLineCodeExecutor, run_process


def create_virtual_env(dir_path: str | os.PathLike, **env_args) -> SimpleNamespace:
    """Create a virtual environment (classic helper); pass the result as ``virtual_env_context``."""
    import venv

    builder = venv.EnvBuilder(**({"with_pip": True} | env_args))
    builder.create(dir_path)
    return builder.ensure_directories(dir_path)


def check_interpreter(path: str | os.PathLike, hint: str) -> str:
    """``path`` if it is an executable file, else an error naming it and how to fix it."""
    path = str(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ExecutorSetupError(f"Python interpreter {path!r} not found or not executable. Fix: {hint}")
    return path


def virtual_env_python(virtual_env_context: SimpleNamespace | str | os.PathLike) -> tuple[str, str]:
    """(python executable, bin directory) of a virtual env given as a context or a directory."""
    if isinstance(virtual_env_context, SimpleNamespace):
        exe, bin_dir = virtual_env_context.env_exe, virtual_env_context.bin_path
    else:
        bin_dir = str(Path(virtual_env_context).absolute() / ("Scripts" if os.name == "nt" else "bin"))
        exe = os.path.join(bin_dir, "python")
    hint = f"create the virtual env first (python -m venv {os.path.dirname(bin_dir)}) or pass another virtual_env_context"
    return check_interpreter(exe, hint), bin_dir


class LocalCommandLineCodeExecutor(CommandLineCodeExecutor):
    """Runs each block as a subprocess in ``work_dir`` with the caller's environment.

    Not a sandbox: the code can do whatever the current user can. Use it for code you trust
    (or when you asked for it with ``use_docker=False``).
    """

    executor_name = "local"

    def __init__(
        self,
        timeout: float = 60,
        virtual_env_context: SimpleNamespace | str | os.PathLike | None = None,
        work_dir: str | os.PathLike = Path("."),
        *,
        python_executable: str | os.PathLike | None = None,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        """
        Args:
            timeout: seconds a block may run; then its process group is killed (exit code 124).
            virtual_env_context: a virtual env (from ``create_virtual_env`` or its directory) to
                run Python and shell blocks in.
            work_dir: directory the code runs in, created if missing.
            python_executable: interpreter for Python blocks (default: the current one).
            max_output_bytes: output beyond this is cut from the middle, with a marker.
        """
        super().__init__(work_dir, timeout, max_output_bytes)
        self._env = dict(os.environ)
        self._env["PYTHONUNBUFFERED"] = "1"  # keep prints and tracebacks in the order they happened
        if virtual_env_context is not None:
            self.python_executable, bin_dir = virtual_env_python(virtual_env_context)
            self._env["PATH"] = bin_dir + os.pathsep + self._env.get("PATH", "")
            self._env["VIRTUAL_ENV"] = os.path.dirname(bin_dir)
        else:
            self.python_executable = check_interpreter(
                python_executable or sys.executable, "pass python_executable=<path to python> or install Python there"
            )

    def _run_file(self, lang: str, path) -> tuple[int, str]:
        if lang == "python":
            program = self.python_executable
        else:
            program = shutil.which(SHELL_PROGRAMS[lang], path=self._env.get("PATH")) or SHELL_PROGRAMS[lang]
        outcome = run_process(
            [program, str(path)], cwd=self.work_dir, env=self._env, timeout=self.timeout, max_output_bytes=self.max_output_bytes
        )
        return outcome.exit_code, outcome.output
