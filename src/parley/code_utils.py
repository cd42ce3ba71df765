"""The classic ``autogen.code_utils`` functions users import: finding and running code."""

from __future__ import annotations

from pathlib import Path

from parley.code.base import PYTHON_LANGUAGES, SHELL_LANGUAGES, CodeBlock, normalize_language
from parley.code.commandline import TIMEOUT_MSG
from parley.code.extraction import CODE_BLOCK_PATTERN, UNKNOWN, extract_code, infer_lang
from parley.code.factory import DEFAULT_TIMEOUT, WORKING_DIR, executor_from_config
from parley.code.local import create_virtual_env
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
    path = (executor.work_dir / filename).resolve()
    if not path.is_relative_to(executor.work_dir.resolve()):
        raise ValueError(f"filename {filename!r} is outside work_dir {str(executor.work_dir)!r}")
    if code is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
    elif not path.is_file():
        raise ValueError(f"filename {filename!r} does not exist in work_dir {str(executor.work_dir)!r}")
    exit_code, output = executor._run_file(lang, Path(path))
    return exit_code, output, image
