"""code_execution_config -> executor: the choice, the cache, the errors."""

import shutil
from pathlib import Path

import pytest

from parley import events
from parley.code import (
    CodeBlock,
    ExecutorSetupError,
    JupyterCodeExecutor,
    LocalCommandLineCodeExecutor,
    SandboxCodeExecutor,
    executor_from_config,
)
from parley.code.docker_executor import docker_engine_answers
from parley.code_utils import execute_code

no_docker = pytest.mark.skipif(docker_engine_answers(), reason="a Docker engine answers here; these tests are about its absence")


def test_use_docker_false_runs_locally_in_work_dir(tmp_path):
    executor = executor_from_config({"work_dir": str(tmp_path / "coding"), "use_docker": False, "last_n_messages": 3})
    assert isinstance(executor, LocalCommandLineCodeExecutor)
    assert executor.work_dir == tmp_path / "coding"
    assert executor.timeout == 600
    result = executor.execute_code_blocks([CodeBlock("open('f.txt', 'w').write('x')", "python")])
    assert result.exit_code == 0
    assert (tmp_path / "coding" / "f.txt").exists()


def test_same_config_gives_the_same_executor(tmp_path):
    config = {"work_dir": str(tmp_path), "use_docker": False, "timeout": 5}
    assert executor_from_config(config) is executor_from_config(dict(config, last_n_messages="auto"))
    assert executor_from_config(config) is not executor_from_config(dict(config, timeout=6))


def test_default_work_dir_is_a_folder_in_cwd_that_python_cannot_import(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    executor = executor_from_config({"use_docker": False})
    assert executor.work_dir == tmp_path / "parley-work"
    assert not executor.work_dir.name.isidentifier()  # code writing __init__.py there shadows no app module


@no_docker
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
@pytest.mark.parametrize("use_docker", [None, True, "python:3-slim"])
def test_without_docker_the_sandbox_is_used_and_said(tmp_path, use_docker):
    config = {"work_dir": str(tmp_path / str(use_docker)), "timeout": 30}
    if use_docker is not None:
        config["use_docker"] = use_docker
    with events.capture(kinds=(events.Notice,)) as notices:
        executor = executor_from_config(config)
    assert isinstance(executor, SandboxCodeExecutor)
    assert "sandbox" in notices.events[0].text
    assert executor.execute_code_blocks([CodeBlock("print(6 * 7)", "python")]).output == "42\n"


@no_docker
def test_without_docker_or_bubblewrap_it_stops_and_says_how_to_choose(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # bwrap cannot be found
    with pytest.raises(ExecutorSetupError) as error:
        executor_from_config({"work_dir": str(tmp_path / "w")})
    message = str(error.value)
    assert "no Docker engine answers" in message
    assert "apt-get install bubblewrap" in message
    assert "'use_docker': False" in message


def test_executor_by_name_with_options(tmp_path):
    executor = executor_from_config(
        {"work_dir": str(tmp_path), "executor": "sandbox", "sandbox": {"memory_limit_mb": 300}, "timeout": 9}
    )
    assert isinstance(executor, SandboxCodeExecutor)
    assert executor.limits["as"] == 300 * 2**20 and executor.timeout == 9
    assert isinstance(executor_from_config({"work_dir": str(tmp_path), "executor": "commandline-local"}), LocalCommandLineCodeExecutor)


def test_executor_instance_is_used_as_is(tmp_path):
    mine = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    assert executor_from_config({"executor": mine}) is mine


def test_jupyter_by_name(tmp_path):
    pytest.importorskip("ipykernel")
    executor = executor_from_config({"work_dir": str(tmp_path), "executor": "jupyter"})
    try:
        assert isinstance(executor, JupyterCodeExecutor)
        assert executor.execute_code_blocks([CodeBlock("print(1)", "python")]).output == "1\n"
    finally:
        executor.stop()


@pytest.mark.parametrize(
    "config, message",
    [
        ({"use_docker": False, "wrok_dir": "x"}, r"unknown code_execution_config key\(s\) \['wrok_dir'\]"),
        ({"use_docker": False, "timeout": -1}, r"code_execution_config\['timeout'\] must be a positive number"),
        ({"executor": "k8s"}, r"code_execution_config\['executor'\] 'k8s' is not known"),
        ({"executor": 42}, r"must be a code executor or one of"),
        ({"use_docker": 3}, r"code_execution_config\['use_docker'\] must be"),
    ],
)
def test_bad_config_names_the_field(config, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        executor_from_config(config)


def test_work_dir_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ExecutorSetupError, match="cannot be created"):
        executor_from_config({"work_dir": str(tmp_path / "file" / "sub"), "use_docker": False})


def test_classic_execute_code(tmp_path):
    work = str(tmp_path)
    assert execute_code("print('hi')", work_dir=work, use_docker=False) == (0, "hi\n", None)
    assert execute_code("print(2)", filename="two.py", work_dir=work, use_docker=False) == (0, "2\n", None)
    assert (Path(work) / "two.py").read_text() == "print(2)"
    assert execute_code(filename="two.py", work_dir=work, use_docker=False)[:2] == (0, "2\n")
    assert execute_code("echo $((1+2))", lang="sh", work_dir=work, use_docker=False)[:2] == (0, "3\n")
    assert execute_code("x", lang="perl6", work_dir=work, use_docker=False)[:2] == (1, "unknown language perl6")
    with pytest.raises(ValueError, match="needs code or filename"):
        execute_code(work_dir=work, use_docker=False)
    with pytest.raises(ValueError, match="not in the workspace"):
        execute_code("print(1)", filename="../x.py", work_dir=work, use_docker=False)
