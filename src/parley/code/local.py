"""Running code on this machine, unsandboxed: what ``use_docker=False`` asks for."""

from __future__ import annotations

import os
import re
import shutil
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from string import Template
from types import SimpleNamespace
from typing import Any, ClassVar

from parley.code.base import (
    DEFAULT_MAX_OUTPUT_BYTES,
    SHELL_LANGUAGES,
    ExecutorSetupError,
)
from parley.code.commandline import (
    DEFAULT_EXECUTION_POLICY,
    SHELL_PROGRAMS,
    CommandLineCodeExecutor,
    run_process,
)
from parley.code.workspace import write_file


class WorkDirNotFoundError(ExecutorSetupError, FileNotFoundError):
    """The directory that would hold ``work_dir`` does not exist (classic raised FileNotFoundError)."""


# Shell commands refused before a block runs (classic's list and messages). A guard against a
# model's accidents, not a sandbox: code can always do the same another way.
_DANGEROUS_COMMANDS = [
    (re.compile(r"\brm\s+-(?:[a-zA-Z]*r[a-zA-Z]*f|[a-zA-Z]*f[a-zA-Z]*r)[a-zA-Z]*\b", re.IGNORECASE),
     "Use of 'rm -rf' command is not allowed."),
    (re.compile(r"\bmv\b.*?\s/dev/null\b"), "Moving files to /dev/null is not allowed."),
    (re.compile(r"\bdd\b"), "Use of 'dd' command is not allowed."),
    (re.compile(r">\s*/dev/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d)"), "Overwriting disk blocks directly is not allowed."),
    (re.compile(r":\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:"), "Fork bombs are not allowed."),
]


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
        exe, bin_dir = os.path.abspath(virtual_env_context.env_exe), os.path.abspath(virtual_env_context.bin_path)
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
    DEFAULT_EXECUTION_POLICY: ClassVar[dict[str, bool]] = DEFAULT_EXECUTION_POLICY
    SUPPORTED_LANGUAGES: ClassVar[list[str]] = sorted(DEFAULT_EXECUTION_POLICY)
    FUNCTION_PROMPT_TEMPLATE: ClassVar[str] = (
        "You have access to the following user defined functions. They can be accessed from the module called "
        "`$module_name` by their function names.\n\nFor example, if there was a function called `foo` you could "
        "import it by writing `from $module_name import foo`\n\n$functions"
    )

    def __init__(
        self,
        timeout: float = 60,
        virtual_env_context: SimpleNamespace | str | os.PathLike | None = None,
        work_dir: str | os.PathLike = Path("."),
        functions: list[Callable[..., Any] | Any] | None = None,
        functions_module: str = "functions",
        execution_policies: dict[str, bool] | None = None,
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
            functions: functions that code can import from ``functions_module`` (plain functions,
                ``@with_requirements`` ones, ``FunctionWithRequirements.from_str``); their module is
                written to ``work_dir`` and their pip packages installed before the first block runs.
            functions_module: the name of that module.
            execution_policies: language -> run it (True) or only save it (False); updates
                ``DEFAULT_EXECUTION_POLICY`` (javascript, html and css are only saved).
            python_executable: interpreter for Python blocks (default: the current one).
            max_output_bytes: output beyond this is cut from the middle, with a marker.
        """
        if not isinstance(functions_module, str) or not functions_module.isidentifier():
            raise ValueError(f"functions_module must be a valid Python identifier, got {functions_module!r}")
        if functions is not None and not isinstance(functions, (list, tuple)):
            raise ValueError(f"functions must be a list of functions, got {functions!r}")
        # As classic: work_dir itself is created, the directory holding it must exist.
        if not Path(work_dir).expanduser().absolute().parent.is_dir():
            raise WorkDirNotFoundError(
                f"work_dir {str(work_dir)!r} cannot be created: {str(Path(work_dir).absolute().parent)!r} does not exist"
            )
        super().__init__(work_dir, timeout, max_output_bytes, execution_policies)
        self._given_work_dir = Path(work_dir)
        self._functions = list(functions or [])
        self._functions_module = functions_module
        self._functions_ready = not self._functions
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

    @property
    def work_dir(self) -> Path:
        """The directory code runs in, as given (classic); ``resolved_work_dir`` is its absolute path."""
        return self._given_work_dir

    @property
    def functions(self) -> list[Any]:
        """The functions code can import from ``functions_module``."""
        return self._functions

    @property
    def functions_module(self) -> str:
        return self._functions_module

    def format_functions_for_prompt(self, prompt_template: str = FUNCTION_PROMPT_TEMPLATE) -> str:
        """The prompt text that tells a model about the functions: ``$module_name`` and ``$functions``
        (their stubs) substituted in ``prompt_template``."""
        from parley.coding.func_with_reqs import to_stub

        return Template(prompt_template).substitute(
            module_name=self._functions_module, functions="\n\n".join(to_stub(func) for func in self._functions)
        )

    @staticmethod
    def sanitize_command(lang: str, code: str) -> None:
        """Raise ValueError when a shell block holds a command classic refuses (``rm -rf``, ``dd``, ...)."""
        if lang not in SHELL_LANGUAGES:
            return
        for pattern, message in _DANGEROUS_COMMANDS:
            if pattern.search(code):
                raise ValueError(f"Potentially dangerous command detected: {message}")

    def _prepare_code(self, code: str, lang: str) -> str:
        self.sanitize_command(lang, code)
        return super()._prepare_code(code, lang)

    def execute_code_blocks(self, code_blocks):
        if not self._functions_ready:
            self._set_up_functions()
        return super().execute_code_blocks(code_blocks)

    def _set_up_functions(self) -> None:
        """Write the functions' module, install their packages, check that it loads (ValueError if not)."""
        from parley.coding.func_with_reqs import build_functions_module

        source = build_functions_module(self._functions)
        path = write_file(self._work_dir, f"{self._functions_module}.py", source.encode(), root_fd=self.work_dir_fd)
        packages = sorted({pkg for func in self._functions for pkg in getattr(func, "python_packages", [])})
        if packages:
            outcome = run_process(
                [self.python_executable, "-m", "pip", "install", "-qqq", *packages], cwd=self._work_dir, env=self._env,
                timeout=self.timeout, max_output_bytes=self.max_output_bytes,
            )
            if outcome.timed_out:
                raise ValueError("Pip install timed out")
            if outcome.exit_code != 0:
                raise ValueError(f"Pip install failed. {outcome.output}")
        exit_code, output = self._run_file("python", path)
        if exit_code != 0:
            raise ValueError(f"Functions failed to load: {output}")
        self._functions_ready = True

    def restart(self) -> None:
        """Nothing to restart: every block runs in a fresh process (warns, as classic)."""
        warnings.warn("Restarting local command line code executor is not supported. No action is taken.", stacklevel=2)

    def _run_file(self, lang: str, path) -> tuple[int, str]:
        if lang == "python":
            program = self.python_executable
        else:
            program = shutil.which(SHELL_PROGRAMS[lang], path=self._env.get("PATH")) or SHELL_PROGRAMS[lang]
        outcome = run_process(
            [program, str(path)], cwd=self._work_dir, env=self._env, timeout=self.timeout, max_output_bytes=self.max_output_bytes
        )
        return outcome.exit_code, outcome.output
