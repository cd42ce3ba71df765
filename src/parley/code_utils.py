"""The classic ``autogen.code_utils`` functions users import: finding and running code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from parley.code.base import (
    PYTHON_LANGUAGES,
    SHELL_LANGUAGES,
    CodeBlock,
    normalize_language,
)
from parley.code.commandline import TIMEOUT_MSG, CommandLineCodeExecutor
from parley.code.extraction import CODE_BLOCK_PATTERN, UNKNOWN, extract_code, infer_lang
from parley.code.factory import DEFAULT_TIMEOUT, WORKING_DIR, executor_from_config
from parley.code.local import create_virtual_env
from parley.code.workspace import (
    UnsafePathError,
    checked_relative_path,
    require_regular_file,
    write_file,
)
from parley.errors import UsageError
from parley.messages import content_str as _content_text

WIN32 = sys.platform == "win32"
PATH_SEPARATOR = "\\" if WIN32 else "/"
DEFAULT_MODEL = "gpt-4"
FAST_MODEL = "gpt-3.5-turbo"

__all__ = [
    "CODE_BLOCK_PATTERN",
    "DEFAULT_TIMEOUT",
    "PATH_SEPARATOR",
    "TIMEOUT_MSG",
    "UNKNOWN",
    "WIN32",
    "WORKING_DIR",
    "check_can_use_docker_or_throw",
    "content_str",
    "create_virtual_env",
    "decide_use_docker",
    "execute_code",
    "extract_code",
    "get_powershell_command",
    "improve_code",
    "improve_function",
    "in_docker_container",
    "infer_lang",
    "is_docker_running",
]


def content_str(content: str | list | None) -> str:
    """Classic ``content_str``: the text of a message's content (image parts as ``<image>``).
    Classic's check on lists holds here: every part must be a dict (``{"type": "text", ...}``)."""
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                raise TypeError("Wrong content format: every element should be dict if the content is a list, "
                                f"got {type(part).__name__} {part!r:.40}")
    return _content_text(content)


def execute_code(
    code: str | None = None,
    timeout: float | None = None,
    filename: str | None = None,
    work_dir: str | None = None,
    use_docker: bool | str | list | None = None,
    lang: str = "python",
) -> tuple[int, str, str | None]:
    """Run ``code`` (or the file ``filename`` in ``work_dir``) and return ``(exit_code, output, image)``.

    The executor is chosen as for ``code_execution_config``: ``use_docker=False`` runs here,
    otherwise Docker, else the bubblewrap sandbox, else an error. ``image`` is the Docker image
    used, or None. With ``filename`` and ``code``, the code is saved under that name first.
    """
    if code is None and filename is None:
        raise UsageError("execute_code needs code or filename; both are None")
    executor = executor_from_config(
        {"work_dir": work_dir or WORKING_DIR, "use_docker": use_docker, "timeout": timeout or DEFAULT_TIMEOUT}
    )
    image = getattr(executor, "image", None)
    lang = normalize_language(lang)
    if lang not in PYTHON_LANGUAGES and lang not in SHELL_LANGUAGES:
        return 1, f"unknown language {lang}", image
    if filename is None:
        assert code is not None  # both None was refused above
        result = executor.execute_code_blocks([CodeBlock(code=code, language=lang)])
        return result.exit_code, result.output, image
    # Earlier code may have planted links, FIFOs or set-ID files in work_dir: go through the
    # workspace's checked operations (a fresh file renamed into place; no link followed).
    root_fd = getattr(executor, "work_dir_fd", None)
    work_dir_path = getattr(executor, "resolved_work_dir", executor.work_dir)
    try:
        relative = checked_relative_path(work_dir_path, filename)
    except UnsafePathError as exc:
        raise ValueError(f"filename {filename!r}: {exc}") from None
    if code is not None:
        path = write_file(work_dir_path, relative, code.encode("utf-8", errors="surrogateescape"), root_fd=root_fd)
    else:
        try:
            require_regular_file(work_dir_path, relative, root_fd=root_fd)
        except UnsafePathError as exc:
            raise ValueError(f"filename {filename!r} in work_dir {str(work_dir_path)!r}: {exc}") from None
        path = work_dir_path / relative
    # A config naming no executor gets a command-line one (local, Docker or sandbox).
    assert isinstance(executor, CommandLineCodeExecutor)
    exit_code, output = executor._run_file(lang, Path(path))
    return exit_code, output, image


_TRUTHY = ("1", "true", "yes", "t")
_FALSY = ("0", "false", "no", "f")


def decide_use_docker(use_docker: bool | str | list | None) -> bool | str | list | None:
    """``use_docker`` if given, else what the ``AUTOGEN_USE_DOCKER`` variable says (``true``/``false``/``none``;
    unset means True, as classic). This reports the request; which executor runs the code is decided by
    ``code_execution_config`` (parley never falls back to running unsandboxed on its own)."""
    if use_docker is not None:
        return use_docker
    value = os.environ.get("AUTOGEN_USE_DOCKER", "True").strip().lower()
    if value in _TRUTHY:
        return True
    if value in _FALSY:
        return False
    if value == "none":
        return None
    raise ValueError(f"AUTOGEN_USE_DOCKER={value!r} is not valid; use one of {', '.join(_TRUTHY + _FALSY)} or none")


def in_docker_container() -> bool:
    """Whether this process runs inside a Docker container."""
    return os.path.exists("/.dockerenv")


def is_docker_running() -> bool:
    """Whether a Docker engine answers (needs the ``docker`` package)."""
    from parley.code.docker_executor import docker_engine_answers

    return docker_engine_answers()


def check_can_use_docker_or_throw(use_docker: bool | str | list | None) -> None:
    """Raise ``RuntimeError`` when Docker is asked for but no engine answers (and we are not in a container)."""
    if use_docker is not None and use_docker is not False and not in_docker_container() and not is_docker_running():
        raise RuntimeError(
            "Code execution is set to run in Docker, but no Docker engine answers. Start Docker, or set "
            "code_execution_config={'use_docker': False} (or AUTOGEN_USE_DOCKER=False) to run code on this machine."
        )


def get_powershell_command() -> str:
    """``powershell`` or ``pwsh``, whichever is installed (FileNotFoundError if neither)."""
    for command in ("powershell", "pwsh"):
        try:
            result = subprocess.run(
                [command, "-Command", "$PSVersionTable.PSVersion.Major"], capture_output=True, text=True, check=False
            )
        except FileNotFoundError:
            continue
        except PermissionError:
            raise PermissionError(f"No permission to run {command}") from None
        if result.returncode == 0:
            return command
    raise FileNotFoundError("Neither powershell nor pwsh is installed but it is a dependency for executing PowerShell code")


def _ask_model(prompt: str, config: dict[str, Any]) -> tuple[str, float]:
    from parley.models.wrapper import OpenAIWrapper

    client = OpenAIWrapper(**config)
    response = client.create(messages=[{"role": "user", "content": prompt}])
    return client.extract_text_or_completion_object(response)[0], float(getattr(response, "cost", 0.0) or 0.0)


def improve_function(file_name: str, func_name: str, objective: str, **config: Any) -> tuple[str, float]:
    """Ask a model (``config`` is an llm_config) to improve ``func_name`` in ``file_name`` for
    ``objective``; returns ``(the improved function, cost)``."""
    with open(file_name, encoding="utf-8") as f:
        source = f.read()
    prompt = (f"Improve the function '{func_name}' to achieve the objective '{objective}'.\n"
              f"The current implementation of the function is as follows:\n{source}")
    return _ask_model(prompt, config)


def improve_code(files: list[str], objective: str, suggest_only: bool = True, **config: Any) -> tuple[str, float]:
    """Ask a model for a suggestion (or, ``suggest_only=False``, the improved code) to reach
    ``objective`` with the code in ``files``; returns ``(text, cost)``."""
    code = "".join(f"File: {name}\n\n{Path(name).read_text(encoding='utf-8')}\n\n" for name in files)
    task = "suggest the improvements" if suggest_only else "write the improved code"
    prompt = f"Analyze the code in the following files and {task} to achieve the objective '{objective}'.\n{code}"
    return _ask_model(prompt, config)
