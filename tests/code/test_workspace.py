"""Host-side writes in work_dir never go through what code left there (issue 14)."""

import os
import socket
import stat
from pathlib import Path

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


SWAPPER = """
import os, sys
work, target, outside_dir = sys.argv[1:4]
os.chdir(work)
while True:
    for make in (lambda: os.symlink(target, 'code.py'), lambda: os.mkfifo('code.py'), lambda: os.mkdir('code.py'),
                 lambda: os.link(target, 'code.py')):
        for remove in (os.unlink, os.rmdir):
            try:
                remove('code.py')
            except OSError:
                pass
        try:
            make()
        except OSError:
            pass
    # the parent directory swapped for a link to a directory outside
    try:
        os.rename('sub', 'sub.old')
        os.symlink(outside_dir, 'sub')
        os.unlink('sub')
        os.rename('sub.old', 'sub')
    except OSError:
        pass
"""


def test_writes_racing_a_process_that_swaps_links_fifos_and_directories(work, outside, tmp_path):
    import subprocess
    import sys
    import threading

    outside_dir = tmp_path / "outside_dir"
    outside_dir.mkdir()
    (work / "sub").mkdir()
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(work), str(outside), str(outside_dir)])
    outcomes = {"written": 0, "refused": 0}

    def write_many():
        for i in range(300):
            for name in ("code.py", "sub/code.py"):
                try:
                    write_file(work, name, f"block {i}".encode())
                    outcomes["written"] += 1
                except UnsafePathError:
                    outcomes["refused"] += 1

    writer = threading.Thread(target=write_many, daemon=True)
    try:
        writer.start()
        writer.join(120)
        hung = writer.is_alive()  # a FIFO opened for writing would block here forever
    finally:
        swapper.kill()
        swapper.wait()
    assert not hung, "a write blocked"
    assert outcomes["written"] > 0 and outcomes["written"] + outcomes["refused"] == 600
    assert outside.read_text() == "original"
    assert list(outside_dir.iterdir()) == []


# --- edges found by mutation testing (docs/mutation.md) ---

@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Filename is empty"),
        (None, "Filename is empty"),
        ("a\x7fb", "contains a control character"),
        ("a\x1fb", "contains a control character"),
        ("x" * 1025, "Filename is too long (1025 bytes; at most 1024)"),
        ("y/" + "x" * 256, "Filename component is too long (256 bytes; at most 255)"),
        ("a/../b", "uses '..'"),
    ],
)
def test_refusals_name_the_reason(work, name, message):
    with pytest.raises(UnsafePathError) as raised:
        checked_relative_path(work, name)
    assert message in str(raised.value)


def test_names_at_the_limits_and_with_spaces_or_del_neighbours_are_kept(work):
    assert checked_relative_path(work, "my file.py") == checked_relative_path(work, "./my file.py")
    assert str(checked_relative_path(work, "caf\u0080.py")) == "caf\u0080.py"  # 128 is no control character


def test_a_name_of_exactly_255_bytes_and_a_path_of_exactly_1024_are_accepted(work):
    part = "x" * 255
    assert str(checked_relative_path(work, part)) == part
    path = "/".join(["y" * 255] * 3 + ["z" * 254])
    assert len(("./" + path).encode()) == 1024
    assert str(checked_relative_path(work, "./" + path)) == path


def test_an_absolute_path_inside_a_work_dir_given_with_a_trailing_slash(work):
    assert str(checked_relative_path(Path(str(work) + "/"), f"{work}/sub//a.py")) == "sub/a.py"


def test_write_file_refuses_paths_outside_by_name(work, tmp_path):
    # The target outside is a canary of the test's own, never a system file: a broken check (a
    # mutant in bench/mutation.py, run as root) would really write there.
    canary = tmp_path / "canary"
    canary.write_bytes(b"untouched")
    for bad in (str(canary), "../canary", "a/../../canary"):
        with pytest.raises(UnsafePathError, match="is not a path inside the workspace"):
            write_file(work, bad, b"x")
    assert canary.read_bytes() == b"untouched"


def test_writes_start_from_the_held_descriptor_not_the_path(work, tmp_path):
    from parley.code.workspace import open_work_dir

    fd = open_work_dir(work)
    try:
        moved = tmp_path / "moved"
        work.rename(moved)
        decoy = tmp_path / "decoy"
        decoy.mkdir()
        work.symlink_to(decoy)  # the path now leads elsewhere; the descriptor does not
        write_file(work, "sub/a.py", b"print(1)", root_fd=fd)
        assert (moved / "sub" / "a.py").read_bytes() == b"print(1)"
        assert list(decoy.iterdir()) == []
    finally:
        os.close(fd)


def test_parents_are_opened_in_the_workspace_not_the_current_directory(work, tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    (elsewhere / "sub").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    write_file(work, "sub/a.py", b"x")
    write_file(work, "sub/b.py", b"y")  # the second write finds sub/ already there
    assert sorted(p.name for p in (work / "sub").iterdir()) == ["a.py", "b.py"]
    assert list((elsewhere / "sub").iterdir()) == []


def test_new_files_and_directories_get_the_usual_modes(work):
    old = os.umask(0)
    try:
        write_file(work, "d/f.py", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((work / "d").stat().st_mode) == 0o777
    assert stat.S_IMODE((work / "d" / "f.py").stat().st_mode) == 0o666
    assert [p.name for p in work.iterdir()] == ["d"] and [p.name for p in (work / "d").iterdir()] == ["f.py"]


def test_a_link_to_a_directory_at_the_name_is_replaced_not_followed(work, tmp_path):
    target_dir = tmp_path / "somedir"
    target_dir.mkdir()
    (work / "a.py").symlink_to(target_dir)
    write_file(work, "a.py", b"new")
    assert_regular(work / "a.py", b"new")
    assert list(target_dir.iterdir()) == []


def test_a_directory_at_the_name_leaves_no_temporary_file(work):
    (work / "a.py").mkdir()
    with pytest.raises(UnsafePathError, match="cannot save a.py: a directory of that name is in the workspace"):
        write_file(work, "a.py", b"x")
    assert [p.name for p in work.iterdir()] == ["a.py"] and list((work / "a.py").iterdir()) == []


def test_require_regular_file(work, tmp_path):
    from parley.code.workspace import open_work_dir, require_regular_file

    write_file(work, "sub/a.py", b"x")
    require_regular_file(work, "sub/a.py")
    fd = open_work_dir(work)
    try:
        require_regular_file(work, "sub/a.py", root_fd=fd)
    finally:
        os.close(fd)
    (work / "link.py").symlink_to(work / "sub" / "a.py")
    with pytest.raises(UnsafePathError, match="link.py in the workspace is not a regular file"):
        require_regular_file(work, "link.py")
    os.mkfifo(work / "fifo.py")
    with pytest.raises(UnsafePathError, match="fifo.py in the workspace is not a regular file"):
        require_regular_file(work, "fifo.py")
    with pytest.raises(UnsafePathError, match="sub/b.py does not exist in the workspace"):
        require_regular_file(work, "sub/b.py")
    with pytest.raises(UnsafePathError, match="nodir/a.py does not exist in the workspace"):
        require_regular_file(work, "nodir/a.py")
    (work / "linkdir").symlink_to(work / "sub")
    with pytest.raises(UnsafePathError, match="linkdir in the workspace is a symlink or not a directory"):
        require_regular_file(work, "linkdir/a.py")


def test_exact_refusal_messages(work):
    with pytest.raises(UnsafePathError) as raised:
        checked_relative_path(work, "")
    assert str(raised.value) == "Filename is empty"
    with pytest.raises(UnsafePathError) as raised:
        write_file(work, "../x.py", b"x")
    assert str(raised.value) == "'../x.py' is not a path inside the workspace"


def test_absolute_names_under_a_root_or_an_x_ending_work_dir(tmp_path):
    assert str(checked_relative_path(Path("/"), "/etc/x.py")) == "etc/x.py"
    odd = tmp_path / "workX"
    assert str(checked_relative_path(odd, f"{odd}/a.py")) == "a.py"


def test_a_work_dir_that_is_not_a_directory_is_refused(tmp_path):
    from parley.code.workspace import open_work_dir

    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        open_work_dir(tmp_path / "file")


def test_a_link_deep_in_the_path_is_named_with_its_parents(work, tmp_path):
    (work / "sub").mkdir()
    (work / "sub" / "linkdir").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError, match="^sub/linkdir in the workspace is a symlink"):
        write_file(work, "sub/linkdir/a.py", b"x")


def test_a_workspace_that_keeps_changing_is_given_up_after_three_walks(work, monkeypatch):
    from parley.code import workspace

    calls = []

    def vanishing(*args):
        calls.append(args)
        raise FileNotFoundError("renamed meanwhile")

    monkeypatch.setattr(workspace, "_write_once", vanishing)
    with pytest.raises(UnsafePathError) as raised:
        write_file(work, "d/a.py", b"x")
    assert str(raised.value) == "cannot save d/a.py: the workspace keeps changing under it"
    assert len(calls) == 3


def test_a_failed_write_leaves_no_temporary_file_and_no_open_descriptor(work):
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(TypeError):
        write_file(work, "a.py", "not bytes")
    assert list(work.iterdir()) == []
    write_file(work, "b.py", b"x")
    assert len(os.listdir("/proc/self/fd")) == before


def test_require_regular_file_uses_the_held_descriptor_and_creates_nothing(work, tmp_path):
    from parley.code.workspace import open_work_dir, require_regular_file

    write_file(work, "sub/a.py", b"x")
    with pytest.raises(UnsafePathError, match="does not exist"):
        require_regular_file(work, "nodir/a.py")
    assert not (work / "nodir").exists()
    fd = open_work_dir(work)
    try:
        moved = tmp_path / "moved"
        work.rename(moved)
        work.mkdir()  # an empty stand-in at the path
        require_regular_file(work, "sub/a.py", root_fd=fd)
    finally:
        os.close(fd)
