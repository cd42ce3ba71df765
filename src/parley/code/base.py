"""What every code executor shares: the block and result shapes and the executor protocol."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from parley import events
from parley.errors import ExecutionError

# Classic default output limit is "none"; model context is not. 32 kB keeps a traceback whole
# while keeping a runaway print loop from flooding the conversation.
DEFAULT_MAX_OUTPUT_BYTES = 32_000

# Classic put its default work_dir inside the installed package ("autogen/extensions"), which
# breaks read-only installs and mixes user files with library code. parley uses a folder under the
# current directory whose name Python cannot import: code that writes __init__.py there cannot
# shadow an app's own module (``from extensions import db`` with classic's name).
WORKING_DIR = "parley-work"

# Language tags accepted in a fenced block, mapped to how they run.
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell"})


@dataclass(slots=True)
class CodeBlock:
    """One fenced code block taken from a message."""

    code: str
    """The code, without the fences."""
    language: str
    """The block's language tag as written (``python``, ``sh``, ...)."""


@dataclass(slots=True)
class CodeResult:
    """What running a reply's code blocks produced."""

    exit_code: int
    """0 when every block succeeded; else the exit code of the first failing block (124 = timeout)."""
    output: str
    """Output of the blocks run, in order (stdout and stderr interleaved), possibly truncated."""
    code_file: str | None = None
    """Path of the file the first block was saved to, when the executor saves code to files."""


@runtime_checkable
class CodeExecutor(Protocol):
    """Runs code blocks; the same interface for every executor."""

    @property
    def work_dir(self) -> Path:
        """Directory the code runs in; files the code writes stay here."""
        ...

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks in order, stopping at the first one that fails."""
        ...

    def restart(self) -> None:
        """Forget state kept between calls (a kernel's variables, a container)."""
        ...


class ExecutorSetupError(ExecutionError):
    """An executor cannot be set up here; the message names the problem and the fix."""


def normalize_language(language: str) -> str:
    """``Python``/``py`` -> ``python``; ``shell`` stays ``shell``; other tags lower-cased."""
    lang = language.strip().lower()
    return "python" if lang in PYTHON_LANGUAGES else lang


def prepare_work_dir(work_dir: str | os.PathLike) -> Path:
    """Create ``work_dir`` (and parents) and return its absolute path, or say why it can't be."""
    path = Path(work_dir).expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExecutorSetupError(
            f"work_dir {str(path)!r} cannot be created: {exc.strerror or exc}. "
            "Set code_execution_config['work_dir'] to a directory you can write to."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ExecutorSetupError(
            f"work_dir {str(path)!r} is not writable. "
            "Set code_execution_config['work_dir'] to a directory you can write to."
        )
    return path


def record_block(parts: list[str], block: CodeBlock, language: str, exit_code: int, output: str,
                 executor: str, started: float) -> None:
    """Add one block's output to ``parts`` (each block on its own lines) and emit its event."""
    if parts and parts[-1] and not parts[-1].endswith("\n"):
        parts.append("\n")
    parts.append(output)
    events.emit(events.CodeExecuted(
        agent=events.acting_agent.get(), language=language, code=block.code, exit_code=exit_code, output=output,
        executor=executor, latency_s=time.perf_counter() - started,
    ))
