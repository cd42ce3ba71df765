"""The shared part of executors that save each block to a file and run it with an interpreter."""

from __future__ import annotations

import hashlib
import os
import re
import selectors
import signal
import subprocess
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from parley.code.base import (
    SHELL_LANGUAGES,
    CodeBlock,
    CodeResult,
    normalize_language,
    prepare_work_dir,
    record_block,
)
from parley.code.output import MARKER_ROOM, BoundedOutput, truncate_text
from parley.code.workspace import checked_relative_path, open_work_dir, write_file

TIMEOUT_MSG = "Timeout"
# The clock the output loop reads (a module attribute, so tests can drive the timeout and the watch).
monotonic = time.monotonic
TIMEOUT_EXIT_CODE = 124  # what coreutils `timeout` returns

# A block's first line may name the file it is saved as, in its language's comment syntax (classic
# rule): `# filename: a.py`, `// filename: a.js`, `/* filename: a.css */`, `<!-- filename: a.html -->`.
_FILENAME_PATTERNS = [
    re.compile(r"^\s*<!--\s*(filename:)?\s*(.+?)\s*-->", re.IGNORECASE),
    re.compile(r"^\s*/\*\s*(filename:)?\s*(.+?)\s*\*/", re.IGNORECASE),
    re.compile(r"^\s*//\s*(filename:)?\s*(.+?)\s*$", re.IGNORECASE),
    re.compile(r"^\s*#\s*(filename:)?\s*(.+?)\s*$", re.IGNORECASE),
]
# Without `filename:` the comment names a file only when it is one word with an extension
# (`# test.py`); classic takes any comment, which saved `# Compute the sum` as a file of that name.
_BARE_FILE_NAME = re.compile(r"[\w./-]*\w\.[A-Za-z][A-Za-z0-9]{0,5}")

# Shell tags and the program that runs them (classic `_cmd`: "shell" runs with sh).
SHELL_PROGRAMS = {"sh": "sh", "shell": "sh", "bash": "bash"}

# Languages saved as files but not run unless a policy says so (classic: javascript, html, css).
SAVE_ONLY_LANGUAGES = frozenset({"javascript", "html", "css"})
DEFAULT_EXECUTION_POLICY = {
    **dict.fromkeys(sorted(SHELL_LANGUAGES), True), "python": True, **dict.fromkeys(sorted(SAVE_ONLY_LANGUAGES), False)
}

# `pip install` at a line's start (`!pip install` in Python) gets -qqq, so a model's install
# step does not flood the conversation with progress lines (classic `silence_pip`).
_PIP_INSTALL = {"python": re.compile(r"^! ?pip install"), "shell": re.compile(r"^pip install")}


def silence_pip(code: str, lang: str) -> str:
    """``code`` with ``-qqq`` added to each ``pip install`` line that lacks it."""
    if lang == "python":
        pattern = _PIP_INSTALL["python"]
    elif lang in SHELL_LANGUAGES:
        pattern = _PIP_INSTALL["shell"]
    else:
        return code
    lines = code.split("\n")
    for i, line in enumerate(lines):
        match = pattern.search(line)
        if match is not None and "-qqq" not in line:
            lines[i] = line.replace(match.group(0), match.group(0) + " -qqq", 1)
    return "\n".join(lines)


def check_execution_policies(execution_policies: dict | None) -> dict[str, bool]:
    """The default policy updated with ``execution_policies`` (language -> run it, or only save it)."""
    policies = dict(DEFAULT_EXECUTION_POLICY)
    if execution_policies is None:
        return policies
    if not isinstance(execution_policies, dict):
        raise TypeError(f"execution_policies must be a dict of language -> bool, got {execution_policies!r}")
    for lang, allowed in execution_policies.items():
        if lang not in policies:
            raise ValueError(f"execution_policies: unknown language {lang!r}; known: {sorted(policies)}")
        if not isinstance(allowed, bool):
            raise TypeError(f"execution_policies[{lang!r}] must be True or False, got {allowed!r}")
        policies[lang] = allowed
    return policies


@dataclass(slots=True)
class ProcessOutcome:
    exit_code: int
    output: str
    timed_out: bool
    stopped: str | None = None
    """Why ``watch`` stopped the process (its message), if it did."""


def run_process(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    max_output_bytes: int,
    pass_fds: tuple[int, ...] = (),
    watch: Callable[[], str | None] | None = None,
    watch_interval: float = 0.1,
) -> ProcessOutcome:
    """Run ``argv`` in its own process group, stdout and stderr interleaved, bounded in size.

    On timeout the whole process group is killed (children included) and the exit code is 124.
    A process killed by signal N reports 128 + N, as a shell would. ``watch``, when given, is
    called every ``watch_interval`` seconds while the process runs; a message from it kills the
    process group (exit code 1) and is returned as ``stopped``.
    """
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )
    except FileNotFoundError:
        return ProcessOutcome(127, f"{argv[0]}: command not found; install it or put it on PATH\n", False)
    return collect_process(proc, timeout=timeout, max_output_bytes=max_output_bytes, watch=watch, watch_interval=watch_interval)


def collect_process(
    proc: subprocess.Popen,
    *,
    timeout: float,
    max_output_bytes: int,
    watch: Callable[[], str | None] | None = None,
    watch_interval: float = 0.1,
) -> ProcessOutcome:
    """Read a started process's output until it ends, as :func:`run_process` does (the timeout counts from now)."""
    stdout = proc.stdout
    if stdout is None:
        raise ValueError("the process's output cannot be read: start it with stdout=subprocess.PIPE")
    output = BoundedOutput(max_output_bytes)
    deadline = monotonic() + timeout
    timed_out = False
    stopped = None
    try:
        fd = stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            next_watch = monotonic() + watch_interval
            # Read until EOF: every process holding the pipe has exited or closed it.
            while True:
                now = monotonic()
                remaining = deadline - now
                if remaining <= 0:
                    timed_out = True
                    break
                if watch is not None:
                    if now >= next_watch:
                        stopped = watch()
                        if stopped is not None:
                            break
                        next_watch = now + watch_interval
                    remaining = min(remaining, max(next_watch - now, 0))
                if not selector.select(remaining):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                output.write(chunk)
        if not timed_out and stopped is None:
            try:
                proc.wait(max(deadline - monotonic(), 0))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        if timed_out or stopped is not None or proc.poll() is None:
            _kill_group(proc)
        stdout.close()
        returncode = proc.wait()
    if timed_out:
        text = output.text()
        return ProcessOutcome(TIMEOUT_EXIT_CODE, text + ("" if not text or text.endswith("\n") else "\n") + TIMEOUT_MSG, True)
    if stopped is not None:
        return ProcessOutcome(1, output.text(), False, stopped)
    return ProcessOutcome(128 - returncode if returncode < 0 else returncode, output.text(), False)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def named_code_path(work_dir: Path, code: str) -> PurePosixPath | None:
    """Where a block's ``# filename: x`` first line asks it to be saved, relative to ``work_dir``; None without one.

    Raises ValueError (an :class:`UnsafePathError`) when the name cannot be a file inside ``work_dir``.
    """
    first_line = code.split("\n", 1)[0]
    for pattern in _FILENAME_PATTERNS:
        match = pattern.match(first_line)
        if match is None:
            continue
        name = match.group(2)
        if match.group(1) is None and not _BARE_FILE_NAME.fullmatch(name):
            return None
        return checked_relative_path(work_dir, name)
    return None


class CommandLineCodeExecutor:
    """Saves each block to a file in ``work_dir`` and runs it; subclasses say how a file runs.

    Blocks run in order; output is concatenated; the first failing block stops the run (classic).
    """

    executor_name = "commandline"

    def __init__(self, work_dir: str | os.PathLike, timeout: float, max_output_bytes: int,
                 execution_policies: dict[str, bool] | None = None) -> None:
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if not isinstance(max_output_bytes, int) or max_output_bytes < 2:
            raise ValueError(f"max_output_bytes must be an int of at least 2, got {max_output_bytes!r}")
        self._work_dir = prepare_work_dir(work_dir)
        # Held for the executor's life: host-side writes start from it, never from the path again.
        self._work_dir_fd = open_work_dir(self._work_dir)
        weakref.finalize(self, os.close, self._work_dir_fd)
        self.timeout = timeout
        self.max_output_bytes = max_output_bytes
        self.execution_policies = check_execution_policies(execution_policies)

    @property
    def work_dir(self) -> Path:
        return self._work_dir

    @property
    def resolved_work_dir(self) -> Path:
        """``work_dir`` as an absolute path, fixed when the executor was made (a later chdir does not move it)."""
        return self._work_dir

    @property
    def work_dir_fd(self) -> int:
        """A descriptor of the directory ``work_dir`` named when the executor was made."""
        return self._work_dir_fd

    def work_dir_replaced(self) -> str | None:
        """Why ``work_dir``'s path no longer names the directory the executor holds, or None."""
        held = os.fstat(self._work_dir_fd)
        try:
            now = os.stat(self._work_dir)
        except OSError as exc:
            now = None
            why = exc.strerror
        if now is None or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            return (f"not run: work_dir {self._work_dir} was replaced since the executor was made "
                    f"({why if now is None else 'it now names another directory, or a link'}); code from another "
                    "executor whose work_dir holds this one may have done it. Use a new executor with a work_dir "
                    "of its own, not inside another executor's.")
        return None

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        parts: list[str] = []
        exit_code = 0
        code_file = None
        for block in code_blocks:
            started = time.perf_counter()
            lang = normalize_language(block.language)
            if lang not in self.execution_policies:
                exit_code, output = 1, f"unknown language {lang}"
            else:
                try:
                    code = self._prepare_code(block.code, lang)
                    path = self._save_code(code, lang)
                except ValueError as exc:
                    exit_code, output = 1, str(exc)
                else:
                    code_file = code_file or str(path)
                    if self.execution_policies[lang]:
                        exit_code, output = self._run_file(lang, path)
                    else:
                        exit_code, output = 0, f"Code saved to {path}\n"
            record_block(parts, block, lang, exit_code, output, self.executor_name, started)
            if exit_code != 0:
                break
        combined = truncate_text("".join(parts), self.max_output_bytes + MARKER_ROOM)
        return CodeResult(exit_code=exit_code, output=combined, code_file=code_file)

    def restart(self) -> None:
        """Nothing to forget: every block runs in a fresh process."""

    def _prepare_code(self, code: str, lang: str) -> str:
        """The code as it is saved and run; a ValueError refuses the block with its message."""
        return silence_pip(code, lang)

    def _save_code(self, code: str, lang: str) -> Path:
        """Write the block to ``work_dir``: under its ``# filename:`` name, else ``tmp_code_<md5>``."""
        relative = named_code_path(self._work_dir, code)
        if relative is None:
            digest = hashlib.md5(code.encode(), usedforsecurity=False).hexdigest()
            relative = PurePosixPath(f"tmp_code_{digest}.{'py' if lang == 'python' else lang}")
        # Earlier blocks may have planted links or special files in work_dir: never write through them.
        try:
            return write_file(self._work_dir, relative, code.encode("utf-8", errors="surrogateescape"), root_fd=self._work_dir_fd)
        except OSError as exc:
            raise ValueError(f"cannot save the code as {relative} in the workspace: {exc.strerror or exc}") from None

    def _run_file(self, lang: str, path: Path) -> tuple[int, str]:
        raise NotImplementedError
