"""Host-side writes in work_dir never go through what code left there (issue 14)."""

import os
import socket
import stat

import pytest

from parley.code import CodeBlock, LocalCommandLineCodeExecutor
from parley.code.workspace import UnsafePathError, checked_relative_path, write_file


@pytest.fixture
def work(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.fixture
def outside(tmp_path):
    target = tmp_path / "outside.txt"
    target.write_text("original")
    return target


def assert_regular(path, content: bytes):
    info = path.lstat()
    assert stat.S_ISREG(info.st_mode) and info.st_nlink == 1
    assert path.read_bytes() == content


@pytest.mark.parametrize("plant", ["symlink", "fifo", "socket", "hardlink", "file"])
def test_whatever_holds_the_name_is_replaced_not_followed(work, outside, plant):
    name = work / "code.py"
    if plant == "symlink":
        name.symlink_to(outside)
    elif plant == "fifo":
        os.mkfifo(name)  # opening it for writing would block forever
    elif plant == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(name))
        sock.close()
    elif plant == "hardlink":
        os.link(outside, name)
    else:
        name.write_text("old")
    assert write_file(work, "code.py", b"new") == name
    assert_regular(name, b"new")
    assert outside.read_text() == "original" and outside.stat().st_nlink == 1
    assert [p.name for p in work.iterdir()] == ["code.py"]  # no temporary file left


def test_a_directory_at_the_name_is_refused(work):
    (work / "code.py").mkdir()
    with pytest.raises(UnsafePathError, match="a directory of that name is in the workspace"):
        write_file(work, "code.py", b"x")
    assert [p.name for p in work.iterdir()] == ["code.py"]


def test_parents_are_made_and_never_followed(work, tmp_path):
    assert_regular(write_file(work, "a/b/c.py", b"deep"), b"deep")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (work / "link").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="link in the workspace is a symlink or not a directory"):
        write_file(work, "link/x.py", b"x")
    (work / "file").write_text("not a dir")
    with pytest.raises(UnsafePathError, match="file in the workspace is a symlink or not a directory"):
        write_file(work, "file/x.py", b"x")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(("name", "message"), [
    ("../x.py", "uses '..'"),
    ("a/../../x.py", "uses '..'"),
    ("/etc/passwd", "outside"),
    ("/proc/self/cwd/x.py", "outside"),
    ("a\x00b", "control character"),
    ("a\nb", "control character"),
    ("sub/", "names a directory"),
    ("x" * 256, "component is too long"),
    ("/".join(["d" * 100] * 20), "Filename is too long"),
    ("bad\udcff.py", "not valid UTF-8"),
    (".parley-tmp-1234", "reserved"),
    ("./.", "names no file"),
])
def test_filename_tricks_are_refused(work, name, message):
    with pytest.raises(UnsafePathError, match=message):
        checked_relative_path(work, name)


def test_names_inside_the_workspace_are_kept(work):
    assert str(checked_relative_path(work, "./a//b.py")) == "a/b.py"
    assert str(checked_relative_path(work, f"{work}/sub/x.py")) == "sub/x.py"
    assert str(checked_relative_path(work, "ünï/файл.py")) == "ünï/файл.py"


def test_local_executor_saves_through_the_same_checks(work, outside):
    local = LocalCommandLineCodeExecutor(work_dir=work, timeout=20)
    (work / "x.py").symlink_to(outside)
    result = local.execute_code_blocks([CodeBlock("# filename: x.py\nprint('ran')", "python")])
    assert (result.exit_code, result.output) == (0, "ran\n")
    assert outside.read_text() == "original"
    (work / "d.py").mkdir()
    result = local.execute_code_blocks([CodeBlock("# filename: d.py\nprint('ran')", "python")])
    assert result.exit_code == 1 and "a directory of that name is in the workspace" in result.output
