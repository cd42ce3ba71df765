"""The bubblewrap sandbox part by part: its setup checks, the command line it builds (seen from
inside the sandbox), the disk watch, the notes a block's output gets, the spare sandbox.

Each test is a fraction of a second (one bubblewrap run or none), so that the mutation run of
``sandbox.py`` (docs/mutation.md) can afford them; ``test_sandbox.py`` and the attack suite test the
same protections end to end. Where a cgroup is needed, a stand-in directory plays it (what the
sandbox writes there is what the kernel would read); where time matters, the test's own clock does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from parley import events
from parley.code import CodeBlock, ExecutorSetupError, SandboxCodeExecutor, cgroup, sandbox
from parley.code.cgroup import SandboxCgroup
from parley.code.commandline import collect_process
from parley.code.sandbox import _discard, _discard_all, _DiskWatch, _python_prefixes

MiB = 2**20


def run(executor, code, lang="python"):
    return executor.execute_code_blocks([CodeBlock(code, lang)])


@pytest.fixture
def no_cgroup(tmp_path, monkeypatch):
    """No cgroup file system to be found: every executor falls back to rlimits, as root too."""
    (tmp_path / "mountinfo").write_text("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    monkeypatch.setattr(cgroup, "MOUNTINFO", str(tmp_path / "mountinfo"))
    monkeypatch.setattr(sandbox, "_NOTED", set())


@pytest.fixture
def notices():
    with events.capture(kinds=(events.Notice,)) as captured:
        yield captured.events


def fake_python(path: Path, prefixes: list[str], on_pass: str = "exit 0") -> Path:
    """An "interpreter" (a shell script) that names ``prefixes`` as its own, runs ``-c pass`` as
    ``on_pass`` and anything else with /bin/sh."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -c ] && [ "$2" = pass ]; then {on_pass}; fi\n'
        f"if [ \"$1\" = -c ]; then echo '{json.dumps(prefixes)}'; exit 0; fi\n"
        'exec /bin/sh "$@"\n'
    )
    path.chmod(0o755)
    return path


# --- setup errors ------------------------------------------------------------------------------


def test_missing_programs_are_named_with_the_fix(tmp_path, monkeypatch):
    bwrap = sandbox.find_bwrap()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ExecutorSetupError) as error:
        SandboxCodeExecutor(work_dir=tmp_path / "w")
    assert str(error.value) == (
        "bubblewrap (bwrap) is not installed, so code cannot run sandboxed. Install bubblewrap (Debian/Ubuntu: "
        "apt-get install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap), or choose another "
        "executor: use_docker=True with a running Docker engine, or use_docker=False to run code on this machine "
        "without a sandbox.")
    (bin_dir / "bwrap").symlink_to(bwrap)
    with pytest.raises(ExecutorSetupError) as error:
        SandboxCodeExecutor(work_dir=tmp_path / "w")
    assert str(error.value) == (
        "the sandbox needs `prlimit`, which is missing. Fix: install util-linux (apt-get install util-linux).")


LIMIT_NAMES = ("memory_limit_mb", "max_processes", "max_file_size_mb", "tmp_size_mb", "work_dir_quota_mb",
               "min_free_disk_mb", "work_dir_inode_quota", "min_free_inodes")


@pytest.mark.parametrize("name", LIMIT_NAMES)
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "8"])
def test_each_limit_must_be_a_positive_int(tmp_path, name, value):
    with pytest.raises(ValueError) as error:
        SandboxCodeExecutor(work_dir=tmp_path, **{name: value})
    assert str(error.value) == f"{name} must be a positive int, got {value!r}"


@pytest.mark.parametrize("value", [0.0099, 1024.01, float("inf"), float("nan"), "1", True, None, -2])
def test_cpu_limit_outside_its_range_is_refused(tmp_path, value):
    with pytest.raises(ValueError) as error:
        SandboxCodeExecutor(work_dir=tmp_path, cpu_limit=value)
    assert str(error.value) == f"cpu_limit must be a number of CPU cores from 0.01 to 1024, got {value!r}"


def test_cpu_limit_at_its_bounds_is_kept_as_a_float(tmp_path, no_cgroup):
    for value in (0.01, 1024, 3):
        executor = SandboxCodeExecutor(work_dir=tmp_path, cpu_limit=value)
        assert executor.cpu_limit == value and type(executor.cpu_limit) is float


def test_defaults(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path)
    assert (executor.timeout, executor.memory_limit_mb, executor.cpu_limit) == (60, 1024, 1.0)
    assert executor.limits == {"as": 1024 * MiB, "cpu": 60, "nproc": 64, "fsize": 100 * MiB, "core": 0}
    assert (executor._tmp_size, executor._quota, executor._reserve) == (256 * MiB, 1024 * MiB, 512 * MiB)
    assert (executor._inode_quota, executor._inode_reserve) == (100_000, 10_000)


def test_a_sandbox_that_does_not_start_is_a_clear_error(tmp_path, no_cgroup):
    python = fake_python(tmp_path / "py" / "python", [str(tmp_path / "py")], on_pass="echo 'cannot run here'; exit 3")
    with pytest.raises(ExecutorSetupError) as error:
        SandboxCodeExecutor(work_dir=tmp_path / "w", python_executable=python)
    assert str(error.value).startswith(
        "the bubblewrap sandbox does not start here (exit code 3): cannot run here. If it says the user namespace "
        "cannot be created, enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on "
        "Ubuntu 24.04 allow bwrap in AppArmor). Install bubblewrap (Debian/Ubuntu")


def test_a_missing_interpreter_is_named_with_the_fix(tmp_path):
    with pytest.raises(ExecutorSetupError) as error:
        SandboxCodeExecutor(work_dir=tmp_path, python_executable=tmp_path / "no-python")
    assert str(error.value) == (f"Python interpreter {str(tmp_path / 'no-python')!r} not found or not executable. "
                                "Fix: pass python_executable=<path to python>")


def test_a_broad_work_dir_is_refused_in_full(tmp_path, monkeypatch):
    home = tmp_path / "real-home"
    home.mkdir()
    (tmp_path / "home-link").symlink_to(home)
    monkeypatch.setenv("HOME", str(tmp_path / "home-link"))  # the home folder through a link: resolved
    with pytest.raises(ExecutorSetupError) as error:
        SandboxCodeExecutor(work_dir=home)
    assert str(error.value) == (
        f"work_dir {str(home)!r} ({home}) is the home folder {home}: the sandbox's code can write its work_dir, so it "
        "must not be one that holds your files. Set code_execution_config['work_dir'] to a dedicated folder (the "
        "default is ./parley-work).")
    holds_home = rf"\({re.escape(str(tmp_path))}\) is a folder that holds the home folder {home}:"
    with pytest.raises(ExecutorSetupError, match=holds_home):
        SandboxCodeExecutor(work_dir=tmp_path)
    inner = home / "project"
    inner.mkdir()
    monkeypatch.chdir(inner)
    monkeypatch.setenv("HOME", "/")  # a home of / holds everything: not a reason to refuse
    with pytest.raises(ExecutorSetupError, match=rf"is a folder that holds the current directory {inner}:"):
        SandboxCodeExecutor(work_dir=home)


def test_a_relative_interpreter_is_made_absolute(tmp_path, monkeypatch, no_cgroup):
    python = fake_python(tmp_path / "py" / "python", [str(tmp_path / "py")])
    monkeypatch.chdir(tmp_path)
    executor = SandboxCodeExecutor(work_dir=tmp_path / "w", python_executable="py/python")
    assert executor.python_executable == str(python)
    assert run(executor, "echo ran").output == "ran\n"  # run by the fake interpreter, from inside the sandbox


# --- the interpreter's prefixes ------------------------------------------------------------------


def test_python_prefixes_of_this_interpreter_and_another(tmp_path):
    assert _python_prefixes(sys.executable) == tuple(dict.fromkeys((sys.prefix, sys.base_prefix)))
    import venv

    venv.create(tmp_path / "venv", with_pip=False, symlinks=True)  # a real interpreter, asked in a child process
    assert _python_prefixes(str(tmp_path / "venv" / "bin" / "python")) == (str(tmp_path / "venv"), sys.base_prefix)
    other = fake_python(tmp_path / "python", ["/opt/venv", "/opt/base", "/opt/venv"])
    assert _python_prefixes(str(other)) == ("/opt/venv", "/opt/base")


@pytest.mark.parametrize("script", [
    "#!/bin/sh\necho '[\"/opt/x\"]'\nexit 1\n",  # a failing interpreter, whatever it printed
    "#!/bin/sh\necho 'not json'\n",
])
def test_an_interpreter_that_does_not_run_is_a_clear_error(tmp_path, script):
    python = tmp_path / "python"
    python.write_text(script)
    python.chmod(0o755)
    with pytest.raises(ExecutorSetupError) as error:
        _python_prefixes(str(python))
    assert re.fullmatch(rf"Python interpreter {re.escape(repr(str(python)))} does not run \(.+\)\. "
                        r"Fix: pass python_executable=<a working python>\.", str(error.value))
    with pytest.raises(ExecutorSetupError, match=r"'/nonexistent/python' does not run \(\[Errno 2\]"):
        _python_prefixes("/nonexistent/python")


def test_the_interpreters_installation_is_bound_read_only(tmp_path, monkeypatch, no_cgroup):
    """A prefix is bound whole; a prefix that is the home folder only by its bin, lib and lib64; one
    under /usr (bound already) not again."""
    home = tmp_path / "home"
    other = tmp_path / "other"
    (home / "lib").mkdir(parents=True)
    (home / "lib64").mkdir()
    (home / "secret.txt").write_text("not for the sandbox")
    other.mkdir()
    (other / "site.txt").write_text("library\n")
    monkeypatch.setenv("HOME", str(home))
    python = fake_python(home / "bin" / "python", ["/usr", "/usr/no-such-prefix", str(home), str(other)])
    executor = SandboxCodeExecutor(work_dir=tmp_path / "w", python_executable=python)
    result = run(executor, f"ls {home}; cat {other}/site.txt; cat {home}/secret.txt 2>&1; touch {other}/x 2>&1; echo end",
                 "sh")
    lines = result.output.splitlines()
    assert lines[:4] == ["bin", "lib", "lib64", "library"], result.output
    assert "No such file" in lines[4] and "Read-only file system" in lines[5] and lines[6] == "end"


def test_an_interpreter_installed_at_the_root_brings_only_its_bin_and_lib(tmp_path, no_cgroup):
    python = fake_python(tmp_path / "py" / "python", [str(tmp_path / "py"), "/"])
    executor = SandboxCodeExecutor(work_dir=tmp_path / "w", python_executable=python)
    listing = run(executor, "ls /", "sh").output.split()
    assert "usr" in listing and "var" not in listing and "home" not in listing  # not the host's whole root


def test_an_interpreter_linked_from_its_prefix_is_bound_where_it_lies(tmp_path, no_cgroup):
    # The real interpreter lies beside the prefix, under a parent the sandbox makes (empty) for the
    # prefix: that parent shows none of the host's files, so the interpreter's own directory is bound.
    real = fake_python(tmp_path / "elsewhere" / "python", [str(tmp_path / "venv")])
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(real)  # as a venv's bin/python links to its base
    executor = SandboxCodeExecutor(work_dir=tmp_path / "w", python_executable=tmp_path / "venv" / "bin" / "python")
    assert run(executor, "echo ran").output == "ran\n"


# --- spare sandboxes -----------------------------------------------------------------------------


def test_discard_kills_the_whole_group_and_closes_the_pipes():
    proc = subprocess.Popen(["/bin/sh", "-c", "sleep 60 & echo $!; wait"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None and proc.stdin is not None
    child = int(proc.stdout.readline())
    spares = [proc]
    _discard_all(spares)
    assert spares == [] and proc.returncode == -signal.SIGKILL
    assert proc.stdin.closed and proc.stdout.closed
    assert _state(child) in ("gone", "Z")  # killed with its group (a zombie until its new parent reaps it)
    _discard(proc)  # already gone: nothing to kill, no error


def _state(pid: int) -> str:
    """"gone" or "Z" once a killed process has ended (a guard of 10 s, not a timed assertion)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "gone"
        if state == "Z" or time.monotonic() > deadline:
            return state
        time.sleep(0.001)


@pytest.fixture
def stand_in_cgroup(tmp_path, no_cgroup):
    """An executor whose cgroup is a directory of the test's own, inside work_dir (so a block can
    write what the kernel would: ``memory.events``)."""
    executor = SandboxCodeExecutor(work_dir=tmp_path / "work", memory_limit_mb=300)
    directory = executor.work_dir / "cg"
    directory.mkdir()
    executor.cgroup = SandboxCgroup(2, {"unified": directory})
    return executor


def test_each_sandbox_joins_the_cgroup_first(stand_in_cgroup):
    executor = stand_in_cgroup
    procs = executor.cgroup.dirs["unified"] / "cgroup.procs"
    assert run(executor, "print('ran')").output == "ran\n"
    assert procs.read_text() == "0\n"  # echo 0 > cgroup.procs: "this process"
    (spare,) = executor.spare_pids()  # started for the next block, already in the group
    assert os.readlink(f"/proc/{spare}/cwd") == "/"  # not holding the caller's directory


def test_the_spare_runs_the_next_block_and_a_new_one_is_made(stand_in_cgroup):
    executor = stand_in_cgroup
    run(executor, "print(1)")
    (first,) = executor.spare_pids()
    assert run(executor, "import os\nprint(os.getcwd())").output == f"{executor.work_dir}\n"
    (second,) = executor.spare_pids()
    assert second != first and not Path(f"/proc/{first}").exists()  # used, ended and collected
    assert run(executor, "echo shell too", "sh").output == "shell too\n"


def test_the_spare_is_handed_the_program_on_its_stdin(stand_in_cgroup):
    executor = stand_in_cgroup
    run(executor, "print(1)")
    (pid,) = executor.spare_pids()
    # A file name that is not UTF-8 (bytes passed through as they are).
    program = Path(os.fsdecode(os.fsencode(executor.work_dir) + b"/caf\xe9.py"))
    program.write_text("print('from the spare')")
    proc = executor._take_spare([executor.python_executable, str(program)])
    assert proc is not None and proc.pid == pid and proc.stdin.closed
    assert executor.spare_pids() == frozenset()
    assert collect_process(proc, timeout=20, max_output_bytes=1000).output == "from the spare\n"


def test_the_spare_is_not_killed_before_the_next_block(stand_in_cgroup):
    executor = stand_in_cgroup
    run(executor, "print(1)")
    (spare,) = executor.spare_pids()
    _wait_reading_stdin(spare)  # joined (its `echo 0 >` is done): now list it as the kernel would
    (executor.cgroup.dirs["unified"] / "cgroup.procs").write_text(f"{spare}\n")
    assert run(executor, "print('by the spare')").output == "by the spare\n"


def _wait_reading_stdin(pid: int) -> None:
    """Until the process waits in read(0, ...) (a guard of 10 s, not a timed assertion)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/syscall").read_text().startswith("0 0x0 "):
                return
        except OSError:
            return
        time.sleep(0.001)


def test_a_dead_spare_is_replaced(stand_in_cgroup):
    executor = stand_in_cgroup
    run(executor, "print(1)")
    (spare,) = executor.spare_pids()
    os.killpg(spare, signal.SIGKILL)
    assert _state(spare) in ("Z", "gone")
    assert run(executor, "print('fresh')").output == "fresh\n"
    assert executor.spare_pids() and spare not in executor.spare_pids()


def test_only_an_interpreter_and_a_file_go_to_the_spare(stand_in_cgroup):
    executor = stand_in_cgroup
    run(executor, "print(1)")
    spares = executor.spare_pids()
    executor._check_sandbox_runs()  # [python, "-c", "pass"]: started afresh, the spare stays
    assert executor.spare_pids() == spares


def test_a_program_with_a_newline_is_not_handed_to_the_spare(stand_in_cgroup):
    executor = stand_in_cgroup
    run(executor, "print(1)")
    (spare,) = executor.spare_pids()
    assert executor._take_spare([executor.python_executable, "a\nb.py"]) is None
    assert executor.spare_pids() == frozenset() and _state(spare) in ("Z", "gone")
    assert executor._take_spare([executor.python_executable, "c.py"]) is None  # none left
    executor._make_spare()
    executor._make_spare()  # one is enough: the second is discarded
    assert len(executor.spare_pids()) == 1


def test_a_sandbox_joins_every_hierarchy_of_a_v1_group(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path / "work")
    memory, pids = tmp_path / "memory", tmp_path / "pids"
    memory.mkdir()
    pids.mkdir()
    executor.cgroup = SandboxCgroup(1, {"memory": memory, "pids": pids})
    assert run(executor, "print('ran')").output == "ran\n"
    assert (memory / "cgroup.procs").read_text() == (pids / "cgroup.procs").read_text() == "0\n"


def test_the_executors_group_gets_its_limits_and_goes_with_it(tmp_path, monkeypatch, notices):
    """The group make_sandbox_cgroup makes (here in a stand-in cgroup v2 tree), as the executor asks for it."""
    import gc

    mount = tmp_path / "cgroup2"
    mount.mkdir()
    (mount / "cgroup.subtree_control").write_text("cpu memory pids\n")
    (tmp_path / "mountinfo").write_text(f"41 31 0:38 / {mount} rw - cgroup2 cgroup2 rw\n")
    (tmp_path / "own").write_text("0::/\n")
    monkeypatch.setattr(cgroup, "MOUNTINFO", str(tmp_path / "mountinfo"))
    monkeypatch.setattr(cgroup, "OWN_CGROUPS", str(tmp_path / "own"))
    monkeypatch.setattr(sandbox, "_NOTED", set())
    executor = SandboxCodeExecutor(work_dir=tmp_path / "work", memory_limit_mb=200, max_processes=9, cpu_limit=0.5)
    (group,) = executor.cgroup.dirs.values()
    assert executor.cgroup_note == "cgroup v2" and group.parent == mount
    assert (group / "memory.max").read_text() == str(200 * MiB)
    assert (group / "pids.max").read_text() == str(9 + 3)  # bwrap's monitor, the sandbox's init, a spare
    assert (group / "cpu.max").read_text() == "50000 100000"
    assert notices == []  # memory and pids are limited: nothing to warn about
    (spare,) = executor.spare_pids()
    for file in group.iterdir():  # what the kernel would remove with the group
        file.unlink()
    del executor
    gc.collect()
    assert not group.exists()
    assert _state(spare) in ("Z", "gone")  # the spare sandbox goes with the executor too


def test_an_out_of_memory_kill_is_noted(stand_in_cgroup):
    executor = stand_in_cgroup
    result = run(executor, "open('cg/memory.events', 'w').write('oom 1\\noom_kill 1\\n')\nprint('big', end='')")
    assert result.output == "big\n(killed: the sandbox's memory limit of 300 MiB was reached)"
    assert result.exit_code == 0  # the code's own status; the kill hit another process
    assert run(executor, "print('next')").output == "next\n"  # no new kill since


def test_a_block_is_not_saved_while_the_previous_ones_processes_stay(stand_in_cgroup, monkeypatch):
    executor = stand_in_cgroup
    clock = {"now": 0.0}
    monkeypatch.setattr(cgroup, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(cgroup, "sleep", lambda s: clock.__setitem__("now", clock["now"] + s))
    (executor.cgroup.dirs["unified"] / "cgroup.procs").write_text(f"{2**22 + 4321}\n")  # a process that never leaves
    result = run(executor, "open('saved.txt', 'w')")
    assert result.exit_code == 1
    assert result.output == "the previous block's sandbox did not stop; not saving the next block"
    assert 5 < clock["now"] < 5.01  # it waited 5 s (of the test's clock)
    assert not list(executor.work_dir.glob("tmp_code_*"))


# --- inside the sandbox --------------------------------------------------------------------------

INSIDE = r"""
import json, os
paths = ["/", "/usr", "/etc/ld.so.cache", "/proc", "/dev", "/dev/shm", "/tmp", os.getcwd()]
paths += ["/proc/" + name for name in NAMES if os.path.exists("/proc/" + name)]
mounts = {}
for path in paths:
    info = os.statvfs(path)
    mounts[path] = [bool(info.f_flag & os.ST_RDONLY), info.f_blocks * info.f_frsize]
parents = []
path = os.path.dirname(os.getcwd())
while path not in ("/tmp", "/"):
    parents.append(oct(os.stat(path).st_mode & 0o7777))
    path = os.path.dirname(path)
print(json.dumps({
    "mounts": mounts, "modes": [oct(os.stat(p).st_mode & 0o7777) for p in ("/tmp", "/dev/shm")], "parents": parents,
    "etc": sorted(os.listdir("/etc")), "env": dict(os.environ), "ppid": os.getppid(),
    "init": open("/proc/1/cmdline").read().split("\0")[:4], "cwd": os.getcwd(),
    "system": {p: (os.readlink(p) if os.path.islink(p) else os.path.isdir(p)) for p in SYSTEM},
    "root": sorted(os.listdir("/")), "etc_mode": oct(os.stat("/etc").st_mode & 0o7777),
}))
"""


@pytest.fixture
def inside(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path / "a" / "b" / "work", tmp_size_mb=3, env={"GREETING": "hi"})
    code = INSIDE.replace("NAMES", repr(sandbox._PROC_READ_ONLY)).replace("SYSTEM", repr(sandbox._SYSTEM_DIRS))
    result = run(executor, code)
    assert result.exit_code == 0, result.output
    return executor, json.loads(result.output)


def test_only_work_dir_tmp_and_dev_shm_are_writable(inside):
    executor, seen = inside
    mounts = seen["mounts"]
    writable = sorted(path for path, (read_only, _) in mounts.items() if not read_only)
    assert writable == sorted(["/proc", "/dev/shm", "/tmp", str(executor.work_dir)])
    assert mounts["/tmp"][1] == mounts["/dev/shm"][1] == 3 * MiB  # size-capped
    for name in sandbox._PROC_READ_ONLY:  # each host-wide /proc file that exists here is read-only
        assert (f"/proc/{name}" in mounts) == os.path.exists(f"/proc/{name}")
    assert seen["modes"] == ["0o1777", "0o1777"]
    assert seen["cwd"] == str(executor.work_dir)


def test_work_dirs_parents_are_made_passable(inside):
    # bwrap would make missing parents 0700; they are made 0755 (as many as work_dir has under /tmp).
    executor, seen = inside
    depth = len(executor.work_dir.relative_to("/tmp").parts) - 1 if str(executor.work_dir).startswith("/tmp/") else None
    assert seen["parents"] and set(seen["parents"]) == {"0o755"}
    if depth is not None:
        assert len(seen["parents"]) == depth


def test_the_system_directories_and_etc_as_on_the_host(inside):
    _, seen = inside
    for path, value in seen["system"].items():
        assert value == (os.readlink(path) if os.path.islink(path) else os.path.isdir(path)), path
    assert seen["etc"] == sorted(name for name in sandbox._ETC_FILES if os.path.exists(f"/etc/{name}"))
    assert seen["etc_mode"] == "0o755"


def test_the_root_holds_only_what_the_sandbox_puts_there(inside):
    executor, seen = inside
    tops = {"etc", "proc", "dev", "tmp"} | {p.strip("/") for p in sandbox._SYSTEM_DIRS if os.path.lexists(p)}
    bound = [executor.work_dir, *map(Path, sandbox._python_prefixes(executor.python_executable)),
             Path(os.path.realpath(executor.python_executable))]
    tops |= {path.parts[1] for path in bound if not path.is_relative_to("/usr")}
    assert seen["root"] == sorted(tops)


def test_the_environment_is_the_sandboxs_own(inside):
    executor, seen = inside
    seen["env"].pop("PWD", None)  # bwrap's, after --chdir
    bin_dirs = dict.fromkeys([os.path.dirname(executor.python_executable), "/usr/local/bin", "/usr/bin", "/bin"])
    assert seen["env"] == {"PATH": ":".join(bin_dirs), "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
                           "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", "GREETING": "hi"}


def test_the_code_is_a_child_of_a_shell_as_pid_1(inside):
    _, seen = inside
    assert seen["ppid"] == 1
    assert seen["init"] == ["/bin/sh", "-c", '"$@"; exit $?', "sandbox-init"]


@pytest.mark.parametrize("env, message", [
    ({"A": 1}, "env must map str to str; got 'A': int"),
    ({2: "x"}, "env must map str to str; got 2: str"),
])
def test_env_must_map_strings_to_strings(tmp_path, env, message, no_cgroup):
    with pytest.raises(ValueError) as error:
        SandboxCodeExecutor(work_dir=tmp_path, env=env)
    assert str(error.value) == message


def test_limits_of_each_process(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path, timeout=2.5, memory_limit_mb=300, max_processes=17, max_file_size_mb=3)
    assert executor.limits == {"as": 300 * MiB, "cpu": 3, "nproc": 17, "fsize": 3 * MiB, "core": 0}
    assert executor.memory_limit_mb == 300
    result = run(executor, "print(open('/proc/self/limits').read())")
    limits = {line[:26].strip(): line[26:].split()[:2] for line in result.output.splitlines()[1:] if line.strip()}
    assert limits["Max address space"] == [str(300 * MiB)] * 2
    assert limits["Max processes"] == ["17", "17"]
    assert limits["Max file size"] == [str(3 * MiB)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    assert limits["Max cpu time"] == ["3", "4"]  # SIGXCPU at the timeout, SIGKILL a second later
    assert SandboxCodeExecutor(work_dir=tmp_path, timeout=0.2).limits["cpu"] == 1  # at least a second
    assert SandboxCodeExecutor(work_dir=tmp_path, timeout=0.2, cpu_time_limit_s=7).limits["cpu"] == 7


def test_limits_stay_within_the_hard_limits_this_process_has(tmp_path):
    # Raising a hard limit needs privileges: asked for more than parley's own process may have
    # (under `ulimit -t`, or a CPU-limited batch job), prlimit failed and no sandbox started.
    code = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (9, 9))
resource.setrlimit(resource.RLIMIT_FSIZE, (2 * 2**20, 2 * 2**20))
from parley.code import CodeBlock, SandboxCodeExecutor
executor = SandboxCodeExecutor(work_dir={str(tmp_path)!r}, timeout=30, max_file_size_mb=3)
print(executor.execute_code_blocks([CodeBlock("print(open('/proc/self/limits').read())", "python")]).output)
"""
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.returncode == 0, child.stderr
    limits = {line[:26].strip(): line[26:].split()[:2] for line in child.stdout.splitlines()[1:] if line.strip()}
    assert limits["Max cpu time"] == ["8", "9"]  # SIGXCPU still a second before the hard limit
    assert limits["Max file size"] == [str(2 * MiB)] * 2


# --- a block's outcome ---------------------------------------------------------------------------


def test_exit_codes_and_a_closed_stdin(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path)
    shell = run(executor, "echo out; exit 3", "sh")
    assert shell.exit_code == 3 and shell.code_file.endswith(".sh")
    result = run(executor, "try:\n    input()\nexcept EOFError:\n    print('no input')")
    assert (result.exit_code, result.output) == (0, "no input\n") and result.code_file.endswith(".py")


def test_a_block_leaves_no_descriptor_open(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path)
    before = _pipes()
    run(executor, "print(1)")
    run(executor, "import sys; sys.exit(2)")
    assert _pipes() == before  # the seccomp program's and the output's pipes are closed again


def _pipes() -> set[str]:
    """This process's open pipes (descriptor: pipe), what a run could leave open (a test runner may open files)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("pipe:"):
            found.add(f"{fd}: {target}")
    return found


@pytest.mark.parametrize("signal_name, note", [("XCPU", "(killed: CPU time limit reached)"),
                                               ("XFSZ", "(killed: file size limit reached)")])
def test_a_limit_signal_is_named(tmp_path, signal_name, note, no_cgroup):
    # The kernel sends SIGXCPU/SIGXFSZ at the limits; sent by the code itself here, without waiting a CPU second.
    executor = SandboxCodeExecutor(work_dir=tmp_path)
    result = run(executor, f"printf partial; kill -{signal_name} $$", "sh")
    assert result.exit_code == 128 + getattr(signal, f"SIG{signal_name}")
    # The shell's words, then ours.
    assert result.output.startswith("partial") and result.output.endswith(f"limit exceeded\n{note}")
    other = run(executor, "kill -TERM $$", "sh")
    assert (other.exit_code, other.output) == (128 + 15, "Terminated\n")


def test_the_timeout_kills_the_sandbox(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path, timeout=1)
    result = run(executor, "sleep 30 & echo started; wait", "sh")
    assert (result.exit_code, result.output) == (124, "started\nTimeout")
    assert run(executor, "echo next", "sh").output == "next\n"


def test_a_replaced_work_dir_is_refused(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path / "work")
    (tmp_path / "work").rename(tmp_path / "moved")
    (tmp_path / "work").mkdir()
    result = run(executor, "print('ran')")
    assert result.exit_code == 1 and result.output.startswith(f"not run: work_dir {tmp_path / 'work'} was replaced")


# --- the disk watch ------------------------------------------------------------------------------


def held(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def test_disk_watch_reads_free_bytes_and_inodes_from_the_held_directory():
    fd = held("/dev")
    try:
        info = os.fstatvfs(fd)
        if not info.f_files:
            pytest.skip("/dev reports no inode counts here")
        watch = _DiskWatch(fd, Path("/dev"), 1, 2, 3, 4)
        assert (watch.start_free, watch.start_inodes) == (info.f_bavail * info.f_frsize, info.f_favail)
        assert (watch.quota, watch.reserve, watch.inode_quota, watch.inode_reserve) == (1, 2, 3, 4)
    finally:
        os.close(fd)
    proc = held("/proc")  # no blocks, no inode counts
    try:
        watch = _DiskWatch(proc, Path("/proc"), 1, 2, 3, 4)
        assert (watch.start_free, watch.start_inodes) == (0, None)
    finally:
        os.close(proc)


@pytest.fixture
def proc_watch():
    """A watch on /proc, where free bytes stay 0 and there are no inode counts: the start values are set by the test."""
    fd = held("/proc")
    yield lambda **kw: _set(_DiskWatch(fd, Path("/work"), kw.pop("quota", 0), kw.pop("reserve", 0), 0, 0), **kw)
    os.close(fd)


@pytest.fixture
def dev_watch():
    """A watch on /dev (no one writes there: its counts stay put), with inode counts."""
    fd = held("/dev")
    if not os.fstatvfs(fd).f_files:
        os.close(fd)
        pytest.skip("/dev reports no inode counts here")
    yield lambda **kw: _set(_DiskWatch(fd, Path("/work"), kw.pop("quota", 0), 0, kw.pop("inode_quota", 0),
                                       kw.pop("inode_reserve", 0)), **kw)
    os.close(fd)


def _set(watch: _DiskWatch, **values) -> _DiskWatch:
    for name, value in values.items():
        setattr(watch, name, value)
    return watch


def test_not_started_when_the_disk_is_under_its_reserve(proc_watch):
    watch = proc_watch(reserve=10 * MiB + 1, start_free=3 * MiB + 5)
    assert watch.full_before_start() == (
        "not run: the disk holding work_dir has 3 MiB free, under the 10 MiB the sandbox keeps free; free at least "
        "7 MiB (delete files from /work) to run code again")
    assert proc_watch(reserve=10 * MiB, start_free=10 * MiB).full_before_start() is None


def test_not_started_when_the_disk_is_under_its_inode_reserve(proc_watch):
    watch = proc_watch(start_inodes=100, inode_reserve=150)
    assert watch.full_before_start() == (
        "not run: the disk holding work_dir has 100 free inodes (files), under the 150 the sandbox keeps free; "
        "delete at least 50 files or directories from /work to run code again")
    assert proc_watch(start_inodes=150, inode_reserve=150).full_before_start() is None
    assert proc_watch(start_inodes=None, inode_reserve=150).full_before_start() is None
    assert proc_watch(start_inodes=100)() is None  # no count now (the file system reports none): no inode checks


def test_a_block_over_its_byte_quota(proc_watch):
    watch = proc_watch(quota=2 * MiB, start_free=3 * MiB + 7)  # free is 0 now: 3 MiB written
    assert watch() == "(killed: the block wrote 3 MiB, more than the work_dir quota of 2 MiB per block)"
    assert watch(ended=True) == "(wrote 3 MiB, more than the work_dir quota of 2 MiB per block)"
    assert proc_watch(quota=2 * MiB, start_free=2 * MiB)() is None  # exactly the quota


def test_the_bytes_written_are_the_drop_in_free_space(dev_watch):
    fd = held("/dev")
    info = os.fstatvfs(fd)
    os.close(fd)
    watch = dev_watch(quota=2 * MiB, start_free=info.f_bavail * info.f_frsize + 3 * MiB + 7)
    assert watch() == "(killed: the block wrote 3 MiB, more than the work_dir quota of 2 MiB per block)"


def test_a_disk_under_its_reserve_while_a_block_runs(proc_watch):
    watch = proc_watch(reserve=2 * MiB, quota=5 * MiB, start_free=1)
    assert watch() == "(killed: the disk holding work_dir is almost full; 2 MiB are kept free)"
    assert watch(ended=True) == "(the disk holding work_dir is almost full; 2 MiB are kept free)"


def test_a_block_over_its_inode_quota_or_reserve(dev_watch):
    fd = held("/dev")
    now = os.fstatvfs(fd).f_favail
    os.close(fd)
    watch = dev_watch(inode_quota=4, start_inodes=now + 5)
    assert watch() == "(killed: the block wrote 5 new files or directories, more than the work_dir quota of 4 per block)"
    assert watch(ended=True) == "(wrote 5 new files or directories, more than the work_dir quota of 4 per block)"
    assert dev_watch(inode_quota=5, start_inodes=now + 5)() is None
    low = dev_watch(inode_quota=10, start_inodes=now, inode_reserve=now + 1)
    assert low() == f"(killed: the disk holding work_dir is almost out of inodes; {now + 1} are kept free)"
    assert low(ended=True) == f"(the disk holding work_dir is almost out of inodes; {now + 1} are kept free)"
    assert dev_watch(inode_quota=10, start_inodes=now, inode_reserve=now)() is None
    assert dev_watch(start_inodes=None, inode_reserve=now + 1)() is None  # no count at the start: no inode checks


@pytest.fixture
def quiet_dir(tmp_path):
    """A work_dir on a file system no one else writes to while the test runs (a tmpfs at /dev/shm where
    there is one): other programs deleting files on the disk would hide what a block wrote."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="parley-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_executor_refuses_to_start_on_a_full_disk(tmp_path, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path, min_free_disk_mb=2**40)
    result = run(executor, "open('ran.txt', 'w')")
    assert result.exit_code == 1
    assert re.fullmatch(rf"not run: the disk holding work_dir has \d+ MiB free, under the {2**40} MiB the sandbox keeps "
                        rf"free; free at least \d+ MiB \(delete files from {re.escape(str(tmp_path))}\) to run code again",
                        result.output)
    assert not (tmp_path / "ran.txt").exists()
    if os.statvfs(tmp_path).f_files:
        inodes = SandboxCodeExecutor(work_dir=tmp_path, min_free_inodes=2**62)
        assert run(inodes, "print(1)").output.startswith("not run: the disk holding work_dir has ")
        assert f"free inodes (files), under the {2**62} the sandbox keeps free" in run(inodes, "print(1)").output


def test_a_block_over_the_work_dir_quota_fails_with_a_note(quiet_dir, monkeypatch, no_cgroup):
    tmp_path = quiet_dir
    monkeypatch.setattr(sandbox, "_DISK_CHECK_INTERVAL", 3600)  # no check while the block runs: only the one after it
    executor = SandboxCodeExecutor(work_dir=tmp_path, work_dir_quota_mb=1)
    # It waits after writing: a check while it runs (every 0.1 s, were the interval not replaced) would stop it.
    result = run(executor, "head -c 20000000 /dev/zero > big.bin; echo written; sleep 0.5", "sh")
    assert result.exit_code == 1  # the block itself succeeded
    assert re.fullmatch(r"written\n\(wrote \d+ MiB, more than the work_dir quota of 1 MiB per block\)",
                        result.output), result.output
    (tmp_path / "big.bin").unlink()
    failing = run(executor, "head -c 20000000 /dev/zero > big.bin; exit 5", "sh")
    assert failing.exit_code == 5  # its own status, kept
    assert re.fullmatch(r"\(wrote \d+ MiB, more than the work_dir quota of 1 MiB per block\)", failing.output), failing.output
    (tmp_path / "big.bin").unlink()
    if os.statvfs(tmp_path).f_files:
        files = SandboxCodeExecutor(work_dir=tmp_path, work_dir_inode_quota=5)
        many = run(files, "mkdir d; cd d; touch $(seq 1 200)", "sh")
        assert many.exit_code == 1
        assert re.fullmatch(r"\(wrote \d+ new files or directories, more than the work_dir quota of 5 per block\)",
                            many.output), many.output


def test_a_block_over_the_work_dir_quota_is_stopped_while_it_runs(quiet_dir, monkeypatch, no_cgroup):
    tmp_path = quiet_dir
    monkeypatch.setattr(sandbox, "_DISK_CHECK_INTERVAL", 0.01)
    executor = SandboxCodeExecutor(work_dir=tmp_path, work_dir_quota_mb=1, timeout=5)
    # The block writes, then waits: only the watch can end it before the timeout.
    result = run(executor, "head -c 20000000 /dev/zero > big.bin; echo written; sleep 30", "sh")
    assert result.exit_code == 1
    assert re.fullmatch(r"(written\n)?\(killed: the block wrote \d+ MiB, more than the work_dir quota of 1 MiB per block\)",
                        result.output), result.output


# --- notices -------------------------------------------------------------------------------------


def test_a_work_dir_that_is_the_current_directory_is_warned_about(tmp_path, monkeypatch, notices, no_cgroup):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    SandboxCodeExecutor(work_dir=".")
    expected = (f"the sandbox's work_dir {work} is the current directory or holds it: sandboxed code can read and "
                "change everything there (.env, .git/config). Prefer a dedicated folder.")
    assert [(n.text, n.level) for n in notices if "current directory" in n.text] == [(expected, "warning")]
    notices.clear()
    SandboxCodeExecutor(work_dir="sub")
    assert not [n for n in notices if "current directory" in n.text]


def test_no_cgroup_is_noted_once_per_reason(tmp_path, notices, no_cgroup, monkeypatch):
    SandboxCodeExecutor(work_dir=tmp_path)
    SandboxCodeExecutor(work_dir=tmp_path)
    bound = ("only the timeout bounds the number of processes" if os.geteuid() == 0
             else "per-process rlimits apply instead")
    expected = (f"the sandbox has no cgroup for memory and pids here (no cgroup file system is mounted); {bound}. "
                "See docs/sandbox.md.")
    assert [(n.text, n.level) for n in notices] == [(expected, "warning")]
    (tmp_path / "mountinfo").unlink()  # another reason: noted again
    SandboxCodeExecutor(work_dir=tmp_path)
    assert len(notices) == 2 and "cgroups cannot be read" in notices[1].text


def test_a_git_repository_in_work_dir_is_noted_once_until_it_goes(tmp_path, notices, no_cgroup):
    executor = SandboxCodeExecutor(work_dir=tmp_path / "w")
    run(executor, "mkdir .git", "sh")
    run(executor, "echo again", "sh")
    expected = (f"work_dir {executor.work_dir} now holds a .git: do not run git (or a git-aware prompt or IDE) there; "
                "its config can run commands on this machine. See docs/sandbox.md.")
    assert [(n.text, n.level) for n in notices if ".git" in n.text] == [(expected, "warning")]
    run(executor, "rmdir .git", "sh")
    run(executor, "ln -s /nonexistent .git", "sh")  # a link counts too (not followed)
    assert [n.text for n in notices if ".git" in n.text] == [expected, expected]
