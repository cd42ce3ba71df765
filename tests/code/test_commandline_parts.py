"""The command-line executors' shared parts one by one: the output loop driven by a clock of the
test's own (``commandline.monotonic`` replaced: no wall-clock race) and a pipe the test writes,
saving a block, the executor's checks and its hold on ``work_dir``. No threads."""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from parley.code import CodeBlock, commandline
from parley.code.commandline import (
    TIMEOUT_EXIT_CODE,
    CommandLineCodeExecutor,
    ProcessOutcome,
    check_execution_policies,
    collect_process,
    named_code_path,
    run_process,
    silence_pip,
)

STEP = 1 / 64  # exact in binary: the clock's readings compare exactly


class Clock:
    """Starts at 1000 and moves ``step`` forward at each reading (or stays while ``frozen()`` says so)."""

    def __init__(self, step: float = STEP, frozen=None) -> None:
        self.now = 1000.0
        self.step = step
        self.frozen = frozen

    def __call__(self) -> float:
        now = self.now
        if self.frozen is None or not self.frozen():
            self.now += self.step
        return now


def own_children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.add(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def no_process_left():
    """Orphans of the test's processes come to this process (a child subreaper), and every process
    a test leaves is killed and reaped when it ends: none outlives the test, even when a broken
    ``_kill_group`` leaves one (mutmut, itself a subreaper, fails on a child it did not start)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    before = own_children()
    yield
    libc.prctl(36, 0, 0, 0, 0)
    for pid in own_children() - before:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.fixture
def clock(monkeypatch):
    made = Clock()
    monkeypatch.setattr(commandline, "monotonic", made)
    return made


def piped(argv: list[str]) -> tuple[subprocess.Popen, int]:
    """A started process whose ``stdout`` is a pipe the test writes (the process's own output goes nowhere)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    read_fd, write_fd = os.pipe()
    proc.stdout = os.fdopen(read_fd, "rb", buffering=0)
    return proc, write_fd


def steps(clock: Clock, t: float) -> int:
    return round((t - 1000.0) / STEP)


def test_the_watch_runs_on_its_interval_until_the_timeout(clock):
    proc, write_fd = piped(["sleep", "60"])
    calls = []

    def watch():
        calls.append(steps(clock, clock.now))
        os.write(write_fd, b"w%d\n" % len(calls))
        return None

    try:
        outcome = collect_process(proc, timeout=12 * STEP, max_output_bytes=1000, watch=watch, watch_interval=3 * STEP)
    finally:
        os.close(write_fd)
    # Readings: 0 the deadline, 1 the first watch due at 4; the watch sees the next reading (4+1, 7+1, 10+1); 12 times out.
    assert calls == [5, 8, 11]
    assert outcome == ProcessOutcome(TIMEOUT_EXIT_CODE, "w1\nw2\nw3\nTimeout", True)
    assert proc.returncode == -9  # the group was killed


def test_the_default_watch_interval_is_a_tenth_of_a_second(monkeypatch):
    clock = Clock(step=1 / 32)
    monkeypatch.setattr(commandline, "monotonic", clock)
    proc, write_fd = piped(["sleep", "60"])
    calls = []

    def watch():
        calls.append(clock.now - 1000.0)
        return "enough" if len(calls) == 2 else None

    try:
        outcome = collect_process(proc, timeout=100, max_output_bytes=1000, watch=watch)
    finally:
        os.close(write_fd)
    # Due at 1/32 + 0.1 (the reading at 5/32 is the first past it), then 0.1 after that call.
    assert calls == [6 / 32, 10 / 32]
    assert outcome == ProcessOutcome(1, "", False, "enough")


def test_a_stop_from_the_watch_kills_the_process_and_keeps_its_output(clock):
    proc, write_fd = piped(["sleep", "60"])
    os.write(write_fd, b"so far")
    answers = iter([None, "disk quota exceeded"])
    try:
        outcome = collect_process(proc, timeout=1000, max_output_bytes=1000, watch=lambda: next(answers),
                                  watch_interval=STEP)
    finally:
        os.close(write_fd)
    assert outcome == ProcessOutcome(1, "so far", False, "disk quota exceeded")
    assert proc.returncode == -9


def test_reading_goes_on_after_a_quiet_wait(clock):
    proc, write_fd = piped(["true"])
    proc.wait()
    calls = []

    def watch():
        calls.append(1)
        if len(calls) == 3:
            os.write(write_fd, b"late\n")
            os.close(write_fd)
        return None

    outcome = collect_process(proc, timeout=1000, max_output_bytes=1000, watch=watch, watch_interval=STEP)
    assert outcome == ProcessOutcome(0, "late\n", False)


def test_the_timeout_is_exact_to_the_reading(clock):
    # Data is always waiting; the loop reads one chunk per pass and stops at the first reading at the deadline.
    proc, write_fd = piped(["sleep", "60"])
    os.write(write_fd, b"x")
    calls = []

    def watch():
        calls.append(steps(clock, clock.now))
        os.write(write_fd, b"x")
        return None

    try:
        outcome = collect_process(proc, timeout=4 * STEP, max_output_bytes=1000, watch=watch, watch_interval=STEP)
    finally:
        os.close(write_fd)
    assert calls == [3, 4]  # (the next reading, as the watch sees it) at readings 2 and 3; 4 is the deadline
    assert outcome == ProcessOutcome(TIMEOUT_EXIT_CODE, "xxx\nTimeout", True)


def test_a_timeout_after_the_process_ended_still_counts_and_kills_what_it_left(clock):
    # The block's shell ended at once but its background child holds the output open past the timeout.
    clock.frozen = lambda: proc.poll() is None
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            start_new_session=True)
    outcome = collect_process(proc, timeout=8 * STEP, max_output_bytes=1000)
    pid_line, _, rest = outcome.output.partition("\n")
    assert (outcome.exit_code, rest, outcome.timed_out) == (TIMEOUT_EXIT_CODE, "Timeout", True)
    # The background child is now this process's (the subreaper's): killed, it can be waited for.
    pid = int(pid_line)
    for _ in range(1000):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        subprocess.run(["true"], check=False)  # lets the kill land without reading the wall clock
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the background child was left running")
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_output_ended_but_the_process_outlives_the_timeout(clock):
    proc, write_fd = piped(["sleep", "60"])
    os.write(write_fd, b"done")
    os.close(write_fd)
    # Readings 0 (deadline), 1, 2 (data), 3 (EOF), 4: the wait's time left is 0.
    outcome = collect_process(proc, timeout=4 * STEP, max_output_bytes=1000)
    assert outcome == ProcessOutcome(TIMEOUT_EXIT_CODE, "done\nTimeout", True)
    assert proc.returncode == -9


def test_output_ended_and_the_process_is_waited_for(clock):
    proc, write_fd = piped(["sleep", "0.5"])
    os.close(write_fd)
    outcome = collect_process(proc, timeout=1000, max_output_bytes=1000)
    assert outcome == ProcessOutcome(0, "", False)


def test_no_readable_output_is_a_clear_error():
    proc = subprocess.Popen(["true"], stdout=subprocess.DEVNULL)
    proc.wait()
    with pytest.raises(ValueError) as caught:
        collect_process(proc, timeout=1, max_output_bytes=100)
    assert str(caught.value) == "the process's output cannot be read: start it with stdout=subprocess.PIPE"


def test_run_process_passes_the_watch_and_its_interval(monkeypatch):
    clock = Clock(step=1 / 32)
    monkeypatch.setattr(commandline, "monotonic", clock)
    calls = []

    def watch():
        calls.append(clock.now - 1000.0)
        return "stop" if len(calls) == 2 else None

    outcome = run_process(["sleep", "60"], cwd=Path("/"), env={"PATH": os.environ["PATH"]}, timeout=100,
                          max_output_bytes=100, watch=watch, watch_interval=2 / 32)
    assert calls == [4 / 32, 6 / 32]  # the next readings after 3 and 5
    assert outcome == ProcessOutcome(1, "", False, "stop")
    calls.clear()
    clock.now = 1000.0
    outcome = run_process(["sleep", "60"], cwd=Path("/"), env={"PATH": os.environ["PATH"]}, timeout=100,
                          max_output_bytes=100, watch=watch)
    assert calls == [6 / 32, 10 / 32]  # the default interval, 0.1


def test_run_process_starts_a_session_with_no_input_and_the_descriptors_given(tmp_path):
    read_fd, write_fd = os.pipe()
    code = ("import os, sys; print(os.getsid(0) == os.getpid(), repr(sys.stdin.read()),"
            f" os.readlink('/proc/self/fd/0')); os.write({write_fd}, b'passed')")
    try:
        outcome = run_process([sys.executable, "-c", code], cwd=tmp_path, env={}, timeout=60, max_output_bytes=1000,
                              pass_fds=(write_fd,))
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd, "rb") as passed:
        assert passed.read() == b"passed"
    assert outcome == ProcessOutcome(0, "True '' /dev/null\n", False)


def test_a_missing_program_is_127_and_no_timeout(tmp_path):
    outcome = run_process(["no-such-program-xyz"], cwd=tmp_path, env={"PATH": str(tmp_path)}, timeout=5,
                          max_output_bytes=100)
    assert outcome == ProcessOutcome(127, "no-such-program-xyz: command not found; install it or put it on PATH\n", False)


def test_silence_pip_changes_only_the_first_install_on_a_line():
    assert silence_pip("pip install a; pip install b", "sh") == "pip install -qqq a; pip install b"


def test_execution_policies_are_checked_and_kept_as_given():
    with pytest.raises(TypeError) as caught:
        check_execution_policies(["python"])
    assert str(caught.value) == "execution_policies must be a dict of language -> bool, got ['python']"
    policies = check_execution_policies({"html": True, "python": False})
    assert policies["html"] is True and policies["python"] is False


def test_named_code_path_reads_the_first_line_only(tmp_path):
    assert str(named_code_path(tmp_path, "# filename: a.py\nx = 1\ny = 2")) == "a.py"
    assert str(named_code_path(tmp_path, f"# filename: {tmp_path}/sub/b.py\nx = 1")) == "sub/b.py"


# The executor itself (save-only languages: the base class has no way to run a file).

def executor(path: Path, **kwargs) -> CommandLineCodeExecutor:
    return CommandLineCodeExecutor(path, timeout=kwargs.pop("timeout", 5), max_output_bytes=kwargs.pop("max_output_bytes", 100),
                                   **kwargs)


@pytest.mark.parametrize("timeout", [True, 0, -1, "5", None])
def test_a_bad_timeout_is_refused(tmp_path, timeout):
    with pytest.raises(ValueError) as caught:
        executor(tmp_path, timeout=timeout)
    assert str(caught.value) == f"timeout must be a positive number of seconds, got {timeout!r}"


@pytest.mark.parametrize("limit", [1, 0, "5", 2.5])
def test_a_bad_output_limit_is_refused(tmp_path, limit):
    with pytest.raises(ValueError) as caught:
        executor(tmp_path, max_output_bytes=limit)
    assert str(caught.value) == f"max_output_bytes must be an int of at least 2, got {limit!r}"


def test_the_smallest_limits_are_taken(tmp_path):
    made = executor(tmp_path, timeout=0.001, max_output_bytes=2)
    assert (made.timeout, made.max_output_bytes) == (0.001, 2)


def test_the_held_directory_is_closed_with_the_executor(tmp_path):
    made = executor(tmp_path)
    fd = made.work_dir_fd
    held = os.fstat(fd)
    assert (held.st_dev, held.st_ino) == (tmp_path.stat().st_dev, tmp_path.stat().st_ino)
    del made
    gc.collect()
    try:
        now = os.fstat(fd)
    except OSError:
        return
    assert (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino)  # the number was reused for something else


def test_work_dir_replaced_names_what_happened(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    made = executor(work)
    assert made.work_dir_replaced() is None
    work.rename(tmp_path / "moved")
    tail = ("; code from another executor whose work_dir holds this one may have done it. Use a new executor with a "
            "work_dir of its own, not inside another executor's.")
    assert made.work_dir_replaced() == (f"not run: work_dir {work} was replaced since the executor was made "
                                        f"(No such file or directory){tail}")
    work.mkdir()
    assert made.work_dir_replaced() == (f"not run: work_dir {work} was replaced since the executor was made "
                                        f"(it now names another directory, or a link){tail}")
    work.rmdir()
    (tmp_path / "moved").rename(work)  # the held directory back under its name
    assert made.work_dir_replaced() is None


def run_blocks(made, *blocks):
    return made.execute_code_blocks([CodeBlock(code, lang) for code, lang in blocks])


def test_no_blocks_is_success_with_nothing(tmp_path):
    result = run_blocks(executor(tmp_path))
    assert (result.exit_code, result.output, result.code_file) == (0, "", None)


def test_an_unnamed_block_is_saved_under_its_digest_with_its_language(tmp_path):
    made = executor(tmp_path)
    code = "<p>hi</p>"
    result = run_blocks(made, (code, "html"))
    name = f"tmp_code_{hashlib.md5(code.encode()).hexdigest()}.html"
    assert result.exit_code == 0 and result.code_file == str(tmp_path / name)
    assert (tmp_path / name).read_text() == code
    assert made._save_code("print(1)", "python") == tmp_path / f"tmp_code_{hashlib.md5(b'print(1)').hexdigest()}.py"


def test_a_block_is_saved_in_the_held_directory_even_after_the_path_moved(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    made = executor(work)
    work.rename(tmp_path / "moved")
    work.mkdir()
    result = run_blocks(made, ("/* filename: a.css */\nb {}", "css"))
    assert result.exit_code == 0
    assert (tmp_path / "moved" / "a.css").read_text() == "/* filename: a.css */\nb {}"
    assert not (work / "a.css").exists()


def test_bytes_that_are_not_utf8_are_saved_as_they_came(tmp_path):
    made = executor(tmp_path)
    code = "/* filename: raw.css */\n" + b"\xff".decode("utf-8", errors="surrogateescape")
    assert run_blocks(made, (code, "css")).exit_code == 0
    assert (tmp_path / "raw.css").read_bytes() == b"/* filename: raw.css */\n\xff"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_block_that_cannot_be_saved_says_why(tmp_path):
    made = executor(tmp_path)
    tmp_path.chmod(0o500)
    try:
        result = run_blocks(made, ("/* filename: a.css */", "css"))
    finally:
        tmp_path.chmod(0o700)
    assert (result.exit_code, result.output) == (1, "cannot save the code as a.css in the workspace: Permission denied")


def test_an_absolute_name_inside_work_dir_is_saved_there(tmp_path):
    made = executor(tmp_path)
    code = f"/* filename: {tmp_path}/sub/c.css */\nb {{}}"
    assert made._save_code(code, "css") == tmp_path / "sub" / "c.css"
    assert (tmp_path / "sub" / "c.css").read_text() == code
