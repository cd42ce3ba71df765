"""The local executor's details: its defaults and errors, the environment it runs code in, the
functions' packages (installed by a stand-in interpreter that records what pip was asked: no
network), and which shell a virtual env's PATH picks."""

from __future__ import annotations

import os
import sys
import venv
from pathlib import Path

import pytest

from parley.code import CodeBlock, ExecutorSetupError, LocalCommandLineCodeExecutor, create_virtual_env
from parley.code.local import check_interpreter
from parley.coding.func_with_reqs import with_requirements


def run(executor, code, lang="python"):
    return executor.execute_code_blocks([CodeBlock(code, lang)])


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_defaults(tmp_path):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    assert executor.timeout == 60
    assert executor.functions_module == "functions" and executor.functions == []
    assert executor.python_executable == sys.executable


def test_create_virtual_env_installs_pip_unless_told_not_to(tmp_path, monkeypatch):
    asked = []

    class Recording(venv.EnvBuilder):
        def __init__(self, **options):
            asked.append(options)
            super().__init__(**{**options, "with_pip": False})  # what was asked is recorded; no pip download here

    monkeypatch.setattr(venv, "EnvBuilder", Recording)
    context = create_virtual_env(tmp_path / "a", symlinks=True)
    create_virtual_env(tmp_path / "b", with_pip=False)
    assert asked == [{"with_pip": True, "symlinks": True}, {"with_pip": False}]
    assert Path(context.env_exe).parent == Path(context.bin_path) == tmp_path / "a" / "bin"
    assert os.access(context.env_exe, os.X_OK)


def test_an_interpreter_must_be_an_executable_file(tmp_path):
    plain = tmp_path / "python"
    plain.write_text("")
    for path in (tmp_path, plain):  # a directory (searchable: X_OK) and a file that is not executable
        with pytest.raises(ExecutorSetupError) as error:
            LocalCommandLineCodeExecutor(work_dir=tmp_path / "w", python_executable=path)
        assert str(error.value) == (f"Python interpreter {str(path)!r} not found or not executable. "
                                    "Fix: pass python_executable=<path to python> or install Python there")
    assert check_interpreter(Path(sys.executable), "hint") == sys.executable


def test_functions_must_be_a_list(tmp_path):
    with pytest.raises(ValueError) as error:
        LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=len)  # type: ignore[arg-type]
    assert str(error.value) == "functions must be a list of functions, got <built-in function len>"


def test_without_functions_no_module_is_written(tmp_path):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    assert run(executor, "print(1)").output == "1\n"
    assert not (tmp_path / "functions.py").exists()


def test_output_and_errors_keep_their_order(tmp_path, monkeypatch):
    # stdout to a pipe is block-buffered unless PYTHONUNBUFFERED is set: the traceback-first order
    # would not be the order things happened.
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    result = run(executor, "import os, sys\nprint('a')\nprint('b', file=sys.stderr)\nprint(os.environ['PYTHONUNBUFFERED'])")
    assert result.output == "a\nb\n1\n"
    assert "PYTHONUNBUFFERED" not in os.environ  # the executor's own copy of the environment has it


def fake_venv(root: Path, shell: str | None = None) -> Path:
    """A virtual env directory: bin/python (this interpreter) and, optionally, a bin/bash of its own."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").symlink_to(sys.executable)
    if shell is not None:
        script(root / "bin" / "bash", f"#!/bin/sh\necho {shell}\n")
    return root


def test_a_virtual_env_comes_first_on_path_even_without_one(tmp_path, monkeypatch):
    env = fake_venv(tmp_path / "env")
    monkeypatch.delenv("PATH")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "w", virtual_env_context=env)
    result = run(executor, "import os\nprint(os.environ['PATH'])\nprint(os.environ['VIRTUAL_ENV'])")
    assert result.output == f"{env / 'bin'}{os.pathsep}\n{env}\n"


def test_a_shell_block_runs_the_virtual_envs_shell(tmp_path):
    env = fake_venv(tmp_path / "env", shell="venv-bash")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "w", virtual_env_context=env)
    assert run(executor, "echo system bash", "bash").output == "venv-bash\n"


def test_a_shell_missing_from_path_is_a_clear_failure(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "w")
    result = run(executor, "echo hi", "sh")
    assert (result.exit_code, result.output) == (127, "sh: command not found; install it or put it on PATH\n")


def test_restart_warns_at_the_callers_line(tmp_path):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    with pytest.warns(UserWarning) as warned:
        executor.restart()
    assert [str(w.message) for w in warned] == [
        "Restarting local command line code executor is not supported. No action is taken."]
    # Blamed on the caller, not on parley's own line (under mutmut the caller is its trampoline).
    assert Path(warned[0].filename).name != "local.py"


def test_the_functions_prompt_sets_the_stubs_apart(tmp_path):
    def one() -> int:
        """First."""
        return 1

    def two() -> int:
        return 2

    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[one, two])
    assert executor.format_functions_for_prompt("$module_name:\n$functions") == (
        'functions:\ndef one() -> int:\n    """First."""\n    ...\n\n\ndef two() -> int:\n    ...\n')


# --- the functions' packages ---------------------------------------------------------------------


@pytest.fixture
def pip_python(tmp_path):
    """An interpreter that answers ``-m pip ...`` itself, as ``PIP_EXIT`` says (after ``PIP_SLEEP``
    seconds), noting its arguments, directory and PYTHONUNBUFFERED in pip.log; anything else goes to
    the real interpreter."""
    return script(tmp_path / "bin" / "python", f"""#!/bin/sh
if [ "$1" = -m ] && [ "$2" = pip ]; then
    echo "$* | $PWD | $PYTHONUNBUFFERED" >> pip.log
    sleep "${{PIP_SLEEP:-0}}"
    echo "pip says: ${{PIP_SAYS:-fine}}"
    exit "${{PIP_EXIT:-0}}"
fi
exec {sys.executable} "$@"
""")


@with_requirements(python_packages=["zeta", "alpha", "zeta"])
def needs_packages() -> int:
    return 7


@with_requirements(python_packages=["beta"])
def needs_more() -> int:
    return 8


def test_the_functions_packages_are_installed_once_before_the_first_block(tmp_path, pip_python):
    work = tmp_path / "work"
    executor = LocalCommandLineCodeExecutor(work_dir=work, functions=[needs_packages, needs_more],
                                            python_executable=pip_python)
    result = run(executor, "from functions import needs_packages, needs_more\nprint(needs_packages() + needs_more())")
    assert (result.exit_code, result.output) == (0, "15\n")
    assert run(executor, "print('again')").output == "again\n"
    # Sorted, each once, quiet; run in work_dir with the executor's environment; not again for the second block.
    assert (work / "pip.log").read_text() == f"-m pip install -qqq alpha beta zeta | {work} | 1\n"


def test_functions_without_packages_install_nothing(tmp_path, pip_python):
    def plain() -> int:
        return 1

    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "work", functions=[plain], python_executable=pip_python)
    assert run(executor, "from functions import plain\nprint(plain())").output == "1\n"
    assert not (tmp_path / "work" / "pip.log").exists()


def test_a_failed_install_is_an_error_with_pips_output(tmp_path, pip_python, monkeypatch):
    monkeypatch.setenv("PIP_EXIT", "1")
    monkeypatch.setenv("PIP_SAYS", "no such package")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "work", functions=[needs_packages],
                                            python_executable=pip_python)
    with pytest.raises(ValueError) as error:
        run(executor, "print(1)")
    assert str(error.value) == "Pip install failed. pip says: no such package\n"
    monkeypatch.setenv("PIP_EXIT", "2")
    with pytest.raises(ValueError, match=r"^Pip install failed\. "):
        run(executor, "print(1)")


def test_an_install_past_the_timeout_is_an_error(tmp_path, pip_python, monkeypatch):
    monkeypatch.setenv("PIP_SLEEP", "30")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "work", functions=[needs_packages],
                                            python_executable=pip_python, timeout=0.5)
    with pytest.raises(ValueError) as error:
        run(executor, "print(1)")
    assert str(error.value) == "Pip install timed out"


def test_pips_output_is_bounded(tmp_path, pip_python, monkeypatch):
    monkeypatch.setenv("PIP_EXIT", "1")
    monkeypatch.setenv("PIP_SAYS", "x" * 5000)
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path / "work", functions=[needs_packages],
                                            python_executable=pip_python, max_output_bytes=1000)
    with pytest.raises(ValueError) as error:
        run(executor, "print(1)")
    assert len(str(error.value)) < 1200 and "bytes of output cut" in str(error.value)


def test_the_functions_module_goes_to_the_directory_the_executor_holds(tmp_path):
    def plain() -> int:
        return 1

    work = tmp_path / "work"
    executor = LocalCommandLineCodeExecutor(work_dir=work, functions=[plain])
    work.rename(tmp_path / "moved")
    (tmp_path / "elsewhere").mkdir()
    work.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="Functions failed to load"):  # it runs by path: not found there
        run(executor, "print(1)")
    assert (tmp_path / "moved" / "functions.py").exists()
    assert not (tmp_path / "elsewhere" / "functions.py").exists()
