"""The classic ``autogen.code_utils`` functions users import: finding and running code."""

from __future__ import annotations

from pathlib import Path

from parley.code.base import (
    PYTHON_LANGUAGES,
    SHELL_LANGUAGES,
    CodeBlock,
    normalize_language,
)
from parley.code.commandline import TIMEOUT_MSG
from parley.code.extraction import CODE_BLOCK_PATTERN, UNKNOWN, extract_code, infer_lang
from parley.code.factory import DEFAULT_TIMEOUT, WORKING_DIR, executor_from_config
from parley.code.local import create_virtual_env
from parley.code.workspace import (
    UnsafePathError,
    checked_relative_path,
    require_regular_file,
    write_file,
)
from parley.messages import content_str

__all__ = [
    "CODE_BLOCK_PATTERN",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_MSG",
    "UNKNOWN",
    "WORKING_DIR",
    "content_str",
    "create_virtual_env",
    "execute_code",
    "extract_code",
    "infer_lang",
]


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
        raise ValueError("execute_code needs code or filename; both are None")
    executor = executor_from_config(
        {"work_dir": work_dir or WORKING_DIR, "use_docker": use_docker, "timeout": timeout or DEFAULT_TIMEOUT}
    )
    image = getattr(executor, "image", None)
    lang = normalize_language(lang)
    if lang not in PYTHON_LANGUAGES and lang not in SHELL_LANGUAGES:
        return 1, f"unknown language {lang}", image
    if filename is None:
        result = executor.execute_code_blocks([CodeBlock(code=code, language=lang)])
        return result.exit_code, result.output, image
    # Earlier code may have planted links, FIFOs or set-ID files in work_dir: go through the
    # workspace's checked operations (a fresh file renamed into place; no link followed).
    root_fd = getattr(executor, "work_dir_fd", None)
    try:
        relative = checked_relative_path(executor.work_dir, filename)
    except UnsafePathError as exc:
        raise ValueError(f"filename {filename!r}: {exc}") from None
    if code is not None:
        path = write_file(executor.work_dir, relative, code.encode("utf-8", errors="surrogateescape"), root_fd=root_fd)
    else:
        try:
            require_regular_file(executor.work_dir, relative, root_fd=root_fd)
        except UnsafePathError as exc:
            raise ValueError(f"filename {filename!r} in work_dir {str(executor.work_dir)!r}: {exc}") from None
        path = executor.work_dir / relative
    exit_code, output = executor._run_file(lang, Path(path))
    return exit_code, output, image
