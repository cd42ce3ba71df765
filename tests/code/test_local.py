"""The local executor runs real code in real subprocesses."""

import time
from pathlib import Path

import pytest

from parley.code import CodeBlock, ExecutorSetupError, LocalCommandLineCodeExecutor, create_virtual_env


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (killed orphans may wait a while to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def local(tmp_path):
    return LocalCommandLineCodeExecutor(work_dir=tmp_path / "coding", timeout=10)


def test_blocks_run_in_order_and_stop_at_first_failure(local, code_events):
    result = local.execute_code_blocks(
        [
            CodeBlock("print('one')", "python"),
            CodeBlock("echo two; echo oops >&2; exit 3", "sh"),
            CodeBlock("print('never')", "python"),
        ]
    )
    assert result.exit_code == 3
    assert result.output == "one\ntwo\noops\n"
    assert [(e.language, e.exit_code, e.executor) for e in code_events.events] == [("python", 0, "local"), ("sh", 3, "local")]
    assert code_events.events[0].output == "one\n"


def test_code_runs_in_work_dir_and_files_stay_there(local):
    result = local.execute_code_blocks([CodeBlock("import os\nopen('data.txt', 'w').write('x')\nprint(os.getcwd())", "python")])
    assert result.exit_code == 0
    assert result.output.strip() == str(local.work_dir)
    assert (local.work_dir / "data.txt").read_text() == "x"
    assert Path(result.code_file).parent == local.work_dir


def test_filename_comment_saves_code_under_that_name(local):
    code = "# filename: scripts/hello.py\nprint('hello')"
    result = local.execute_code_blocks([CodeBlock(code, "python"), CodeBlock("python scripts/hello.py", "sh")])
    assert result.exit_code == 0
    assert result.output == "hello\nhello\n"
    assert (local.work_dir / "scripts" / "hello.py").read_text() == code
    assert result.code_file == str((local.work_dir / "scripts" / "hello.py").resolve())


def test_filename_outside_work_dir_is_refused(local, tmp_path):
    result = local.execute_code_blocks([CodeBlock("# filename: ../escape.py\nprint(1)", "python")])
    assert result.exit_code == 1
    assert "Filename is not in the workspace" in result.output
    assert not (tmp_path / "escape.py").exists()


def test_unknown_language(local):
    result = local.execute_code_blocks([CodeBlock("fn main() {}", "rust")])
    assert (result.exit_code, result.output) == (1, "unknown language rust")


def test_bash_and_python_variants(local):
    result = local.execute_code_blocks([CodeBlock("echo ${BASH_VERSION:+bash}", "bash"), CodeBlock("print(2)", "Python")])
    assert result.exit_code == 0
    assert result.output == "bash\n2\n"


def test_timeout_kills_the_whole_process_group(local):
    local.timeout = 1.5
    code = "sleep 300 &\necho $! > child.pid\necho started\nwhile true; do :; done"
    result = local.execute_code_blocks([CodeBlock(code, "sh")])
    assert result.exit_code == 124
    assert result.output == "started\nTimeout"
    child = int((local.work_dir / "child.pid").read_text())
    # SIGKILL to the group is delivered asynchronously: give the child a moment to go.
    deadline = time.monotonic() + 5
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child)


def test_crash_is_reported_and_executor_still_works(local):
    result = local.execute_code_blocks([CodeBlock("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "python")])
    assert result.exit_code == 128 + 9
    assert local.execute_code_blocks([CodeBlock("print('alive')", "python")]).output == "alive\n"


def test_traceback_and_stdin_closed(local):
    result = local.execute_code_blocks([CodeBlock("print('before')\ninput()", "python")])
    assert result.exit_code == 1
    assert result.output.startswith("before\nTraceback")
    assert "EOFError" in result.output


def test_long_output_is_truncated_with_a_marker(tmp_path):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, max_output_bytes=1000)
    result = executor.execute_code_blocks([CodeBlock("print('A' * 5000, end=''); print('END', end='')", "python")])
    assert result.exit_code == 0
    assert result.output.startswith("A" * 500)
    assert result.output.endswith("END")
    assert "[... 4003 bytes of output cut ...]" in result.output
    assert len(result.output) < 1100


def test_virtual_env(tmp_path):
    env = create_virtual_env(tmp_path / "venv", with_pip=False)
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "w", virtual_env_context=env)
    result = executor.execute_code_blocks(
        [CodeBlock("import sys; print(sys.prefix)", "python"), CodeBlock('echo "$VIRTUAL_ENV"; which python', "sh")]
    )
    assert result.exit_code == 0, result.output
    prefix, virtual_env, python = result.output.split()
    assert Path(prefix) == Path(env.env_dir)
    assert Path(virtual_env) == Path(env.env_dir)
    assert Path(python).parent == Path(env.bin_path)
    # A directory works as well as the context.
    by_dir = LocalCommandLineCodeExecutor(work_dir=tmp_path / "w", virtual_env_context=tmp_path / "venv")
    assert Path(by_dir.python_executable).parent == Path(env.bin_path)


def test_missing_interpreter_is_a_clear_error(tmp_path):
    with pytest.raises(ExecutorSetupError, match=r"interpreter '/nonexistent/python' not found.*Fix"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, python_executable="/nonexistent/python")
    with pytest.raises(ExecutorSetupError, match=r"python -m venv"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, virtual_env_context=tmp_path / "no-venv")


def test_work_dir_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ExecutorSetupError, match=r"work_dir .*file/sub' cannot be created.*work_dir"):
        LocalCommandLineCodeExecutor(work_dir=blocker / "sub")


def test_bad_timeout():
    with pytest.raises(ValueError, match="timeout"):
        LocalCommandLineCodeExecutor(timeout=0)
