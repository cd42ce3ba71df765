"""The sandbox's only writable folder is never one that holds the user's files: the root, the
home folder, a folder holding either, or one holding the current directory (whoever passes it:
a spec, a script, a classic code_execution_config)."""

from __future__ import annotations

import pytest

from parley import UserProxyAgent
from parley.code import CodeBlock, ExecutorSetupError, SandboxCodeExecutor


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """$HOME at tmp/users/me, the current directory at tmp/projects/app/src."""
    home = tmp_path / "users" / "me"
    cwd = tmp_path / "projects" / "app" / "src"
    home.mkdir(parents=True)
    cwd.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    return tmp_path


@pytest.mark.parametrize("work_dir, words", [
    ("/", "is the root folder"),
    ("~", "is the home folder"),
    ("HOME", "is the home folder"),
    ("users", "is a folder that holds the home folder"),
    ("projects/app", "is a folder that holds the current directory"),
    ("..", "is a folder that holds the current directory"),
])
def test_a_work_dir_holding_the_users_files_is_refused(layout, work_dir, words):
    work_dir = {"HOME": str(layout / "users" / "me"), "users": str(layout / "users"),
                "projects/app": str(layout / "projects" / "app")}.get(work_dir, work_dir)
    with pytest.raises(ExecutorSetupError, match=f"work_dir {work_dir!r} .* {words}"):
        SandboxCodeExecutor(work_dir=work_dir)


def test_a_link_to_the_home_folder_is_refused(layout):
    (layout / "link").symlink_to(layout / "users" / "me")
    with pytest.raises(ExecutorSetupError, match="is the home folder"):
        SandboxCodeExecutor(work_dir=layout / "link")


def test_a_user_proxy_given_the_home_folder_runs_nothing(layout):
    home = layout / "users" / "me"
    agent = UserProxyAgent("u", human_input_mode="NEVER", code_execution_config={"work_dir": "~", "executor": "sandbox"})
    with pytest.raises(ExecutorSetupError, match="is the home folder"):
        agent.code_executor  # noqa: B018 - made on first use
    assert not (home / ".bashrc").exists()


def test_a_folder_inside_home_or_the_current_directory_is_fine(layout):
    for work_dir in ("~/work", "parley-work"):
        executor = SandboxCodeExecutor(work_dir=work_dir)
        result = executor.execute_code_blocks([CodeBlock("echo ok > f.txt; cat f.txt", "sh")])
        assert result.exit_code == 0 and result.output.strip() == "ok"
