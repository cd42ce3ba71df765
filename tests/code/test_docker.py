"""The Docker executor; it needs a Docker engine, so it skips where none answers."""

import pytest

docker = pytest.importorskip("docker", reason="the Docker SDK is not installed (pip install 'parley[docker]')")


def _engine_answers() -> bool:
    try:
        docker.from_env(timeout=5).ping()
    except Exception:
        return False
    return True


pytestmark = pytest.mark.skipif(not _engine_answers(), reason="no Docker engine answers docker.from_env().ping()")

from parley.code import CodeBlock, DockerCommandLineCodeExecutor  # noqa: E402


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    executor = DockerCommandLineCodeExecutor(work_dir=tmp_path_factory.mktemp("docker"), timeout=10)
    yield executor
    executor.stop()


def test_runs_python_and_shell_in_the_container(container):
    result = container.execute_code_blocks(
        [CodeBlock("# filename: hi.py\nprint('hi')", "python"), CodeBlock("python hi.py; pwd", "sh")]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "hi\nhi\n/workspace\n"
    assert (container.work_dir / "hi.py").exists()


def test_timeout(container):
    container.timeout = 1
    try:
        result = container.execute_code_blocks([CodeBlock("import time\ntime.sleep(30)", "python")])
    finally:
        container.timeout = 10
    assert result.exit_code == 124
    assert result.output.endswith("Timeout")
