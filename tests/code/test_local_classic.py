"""Classic LocalCommandLineCodeExecutor behaviours: execution policies, the dangerous-command guard,
quiet pip, user-defined functions, file names from a first-line comment, work_dir as given."""

import sys
from pathlib import Path

import pytest

from parley import ConversableAgent
from parley.code import CodeBlock, LocalCommandLineCodeExecutor
from parley.coding.func_with_reqs import FunctionWithRequirements, with_requirements


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_a_save_only_language_is_saved_not_run(tmp_path):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, execution_policies={"python": False})
    result = executor.execute_code_blocks([CodeBlock("# filename: hi.py\nopen('ran', 'w').write('x')", "python")])
    assert result.exit_code == 0 and result.output == f"Code saved to {tmp_path / 'hi.py'}\n"
    assert (tmp_path / "hi.py").exists() and not (tmp_path / "ran").exists()
    js = executor.execute_code_blocks([CodeBlock("// app.js\nconsole.log(1)", "javascript")])
    assert js.exit_code == 0 and js.code_file == str(tmp_path / "app.js") and "Code saved to" in js.output


def test_an_unknown_or_non_bool_policy_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="execution_policies: unknown language 'rust'"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, execution_policies={"rust": True})
    with pytest.raises(TypeError, match=r"execution_policies\[.python.\] must be True or False"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, execution_policies={"python": "no"})


@pytest.mark.parametrize("code, message", [
    ("rm -rf /", "Use of 'rm -rf' command is not allowed."),
    ("rm -fr build", "Use of 'rm -rf' command is not allowed."),
    ("mv data /dev/null", "Moving files to /dev/null is not allowed."),
    ("dd if=/dev/zero of=x", "Use of 'dd' command is not allowed."),
    ("echo x > /dev/sda", "Overwriting disk blocks directly is not allowed."),
    (":(){ :|:& };:", "Fork bombs are not allowed."),
])
def test_dangerous_shell_commands_are_refused_before_they_run(tmp_path, code, message):
    with pytest.raises(ValueError, match="Potentially dangerous command detected: " + message.replace(".", r"\.")):
        LocalCommandLineCodeExecutor.sanitize_command("bash", code)
    LocalCommandLineCodeExecutor.sanitize_command("python", code)  # only shell blocks are checked
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    result = executor.execute_code_blocks([CodeBlock("touch ran\n" + code, "sh")])
    assert result.exit_code == 1 and message in result.output and not (tmp_path / "ran").exists()


def test_pip_install_lines_are_made_quiet(tmp_path):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, execution_policies={"sh": False, "python": False})
    shell = executor.execute_code_blocks([CodeBlock("pip install numpy\necho pip install x\npip install -qqq y", "sh")])
    assert Path(shell.code_file).read_text() == "pip install -qqq numpy\necho pip install x\npip install -qqq y"
    python = executor.execute_code_blocks([CodeBlock("!pip install numpy", "python")])
    assert Path(python.code_file).read_text() == "!pip install -qqq numpy"


def test_functions_are_importable_and_described_for_the_prompt(tmp_path):
    from_str = FunctionWithRequirements.from_str("def twice(x: int) -> int:\n    '''Double it.'''\n    return 2 * x\n")
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[add, from_str], functions_module="tools")
    prompt = executor.format_functions_for_prompt()
    assert "module called `tools`" in prompt and "from tools import foo" in prompt
    assert 'def add(a: int, b: int) -> int:\n    """Add two numbers."""\n' in prompt and "def twice(x: int) -> int:" in prompt
    result = executor.execute_code_blocks([CodeBlock("from tools import add, twice\nprint(add(1, twice(2)))", "python")])
    assert (result.exit_code, result.output) == (0, "5\n")


def test_functions_that_cannot_load_are_an_error_when_code_first_runs(tmp_path):
    @with_requirements(global_imports=["no_such_module_for_parley"])
    def broken() -> None:
        pass

    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=[broken])
    with pytest.raises(ValueError, match="(?s)Functions failed to load: .*no_such_module_for_parley"):
        executor.execute_code_blocks([CodeBlock("print(1)", "python")])
    with pytest.raises(ValueError, match="functions_module must be a valid Python identifier"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path, functions_module="not-a-module")


@pytest.mark.parametrize("first_line, saved_as", [
    ("# filename: named.py", "named.py"),
    ("# named.py", "named.py"),
    ("#   sub/named.py", "sub/named.py"),
    ("# Compute the sum", None),  # a comment, not a file name
    ("# e.g.", None),
])
def test_a_first_line_comment_names_the_file_only_when_it_is_a_file_name(tmp_path, first_line, saved_as):
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    result = executor.execute_code_blocks([CodeBlock(f"{first_line}\nprint('ok')", "python")])
    assert result.exit_code == 0 and result.output == "ok\n"
    if saved_as is None:
        assert Path(result.code_file).name.startswith("tmp_code_")
    else:
        assert result.code_file == str(tmp_path / saved_as)


def test_work_dir_is_reported_as_given_and_its_parent_must_exist(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    executor = LocalCommandLineCodeExecutor(work_dir="here")
    assert str(executor.work_dir) == "here" and executor.resolved_work_dir == tmp_path / "here"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LocalCommandLineCodeExecutor(work_dir=tmp_path / "missing" / "deeper")
    with pytest.warns(UserWarning, match="No action is taken"):
        executor.restart()


def test_a_relative_virtual_env_is_found_after_the_executor_is_made(tmp_path, monkeypatch):
    import venv

    monkeypatch.chdir(tmp_path)
    context = venv.EnvBuilder(with_pip=False).ensure_directories("env")
    venv.EnvBuilder(with_pip=False).create("env")
    executor = LocalCommandLineCodeExecutor(work_dir="coding", virtual_env_context=context)
    result = executor.execute_code_blocks([CodeBlock("import sys; print(sys.prefix)", "python")])
    assert result.exit_code == 0 and Path(result.output.strip()) == (tmp_path / "env").absolute()


def test_the_reply_text_is_classics_for_the_legacy_and_the_executor_paths(tmp_path):
    message = [{"role": "user", "content": "```python\nprint('hello world')\n```"}]
    legacy = ConversableAgent("runner", llm_config=False, code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    assert legacy.generate_reply(message) == "exitcode: 0 (execution succeeded)\nCode output: \nhello world\n"
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path)
    new = ConversableAgent("runner2", llm_config=False, code_execution_config={"executor": executor})
    assert new.generate_reply(message) == "exitcode: 0 (execution succeeded)\nCode output: hello world\n"
    failing = [{"role": "user", "content": "```python\nimport sys; sys.exit(3)\n```"}]
    assert legacy.generate_reply(failing) == "exitcode: 3 (execution failed)\nCode output: \n"


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("Linux only")
