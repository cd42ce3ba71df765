"""The Jupyter executor runs a real ipykernel."""

import pytest

pytest.importorskip("jupyter_client", reason="jupyter_client is not installed (pip install 'parley[jupyter]')")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install 'parley[jupyter]')")

from parley.code import CodeBlock, ExecutorSetupError, JupyterCodeExecutor  # noqa: E402


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    executor = JupyterCodeExecutor(work_dir=tmp_path_factory.mktemp("jupyter"), timeout=20)
    yield executor
    executor.stop()


def test_state_is_kept_between_blocks_and_calls(kernel, code_events):
    first = kernel.execute_code_blocks([CodeBlock("x = 41\nprint('set')", "python")])
    second = kernel.execute_code_blocks([CodeBlock("x + 1", "python")])
    assert (first.exit_code, first.output) == (0, "set\n")
    assert (second.exit_code, second.output) == (0, "42\n")
    assert [e.executor for e in code_events.events] == ["jupyter", "jupyter"]


def test_matplotlib_png_is_saved(kernel):
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares')\nplt.show()"
    result = kernel.execute_code_blocks([CodeBlock(code, "python")])
    assert result.exit_code == 0, result.output
    assert len(result.output_files) == 1
    png = kernel.work_dir / result.output_files[0]
    assert png.parent == kernel.work_dir
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Image data saved to {png}" in result.output


def test_error_stops_the_blocks_and_is_reported(kernel):
    result = kernel.execute_code_blocks([CodeBlock("print('a')\n1/0", "python"), CodeBlock("print('never')", "python")])
    assert result.exit_code == 1
    assert result.output.startswith("a\n")
    assert "ZeroDivisionError" in result.output and "never" not in result.output
    assert "\x1b[" not in result.output


def test_shell_block_and_unknown_language(kernel):
    assert kernel.execute_code_blocks([CodeBlock("echo from-sh", "sh")]).output == "from-sh\n"
    result = kernel.execute_code_blocks([CodeBlock("x", "cobol")])
    assert (result.exit_code, result.output) == (1, "unknown language cobol")


def test_timeout_interrupts_and_keeps_state(kernel):
    kernel.execute_code_blocks([CodeBlock("kept = 'yes'", "python")])
    kernel.timeout = 1
    try:
        result = kernel.execute_code_blocks([CodeBlock("import time\nprint('waiting')\ntime.sleep(60)", "python")])
    finally:
        kernel.timeout = 20
    assert result.exit_code == 124
    assert result.output.startswith("waiting\n") and "Timeout" in result.output
    assert kernel.execute_code_blocks([CodeBlock("print(kept)", "python")]).output == "yes\n"


def test_kernel_crash_is_reported_and_kernel_restarted(kernel):
    result = kernel.execute_code_blocks([CodeBlock("import os\nos._exit(1)", "python")])
    assert result.exit_code == 1
    assert "kernel died" in result.output
    after = kernel.execute_code_blocks([CodeBlock("print('x' in dir())", "python")])
    assert after.output == "False\n"


def test_restart_forgets_variables(kernel):
    kernel.execute_code_blocks([CodeBlock("y = 1", "python")])
    kernel.restart()
    assert "NameError" in kernel.execute_code_blocks([CodeBlock("y", "python")]).output


def test_unknown_kernel_is_a_clear_error(tmp_path):
    with pytest.raises(ExecutorSetupError, match="No such kernel named nope.*pip install ipykernel"):
        JupyterCodeExecutor(work_dir=tmp_path, kernel_name="nope")
