"""The sandbox's cgroup, part by part, on stand-in cgroup directories (no privileges needed).

A delegated cgroup is a directory of files the kernel reads; here they are plain files in a
temporary directory, so what parley writes is checked as the kernel would see it. The kernel's
side (a killed process leaving ``cgroup.procs``) is played by the test's own clock and sleep:
no test waits on the wall clock. The real groups, made by the executor where it can (as root),
are tested end to end in ``test_sandbox.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from parley.code import cgroup
from parley.code.cgroup import SandboxCgroup, _make_v1, _make_v2, make_sandbox_cgroup, remove_stale_groups

MiB = 2**20


class Clock:
    """Replaces the module's clock and sleep: each sleep moves the clock on and lets the test act
    as the kernel (``on_sleep``)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = lambda count: None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.sleeps))


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(cgroup, "monotonic", fake.monotonic)
    monkeypatch.setattr(cgroup, "sleep", fake.sleep)
    return fake


@pytest.fixture
def child():
    """A real process of our own to put in a stand-in group (and to see killed)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


# A PID no process can have (above the kernel's largest, 2**22): listed in a stand-in group, it is
# a process that never leaves, and signalling it can hit no one.
NO_SUCH_PID = 2**22 + 4321


def dead_pid() -> int:
    """The PID of a process that has ended and been collected."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def group_dir(tmp_path: Path, name: str = "group", pids: tuple[int, ...] = ()) -> Path:
    path = tmp_path / name
    path.mkdir()
    (path / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in pids))
    return path


# --- SandboxCgroup -------------------------------------------------------------------------------


def test_controllers_of_each_version():
    assert SandboxCgroup(2, {"unified": Path("/g")}).controllers == {"memory", "pids"}
    assert SandboxCgroup(2, {"unified": Path("/g")}, cpu_limited=True).controllers == {"memory", "pids", "cpu"}
    # v1: only the hierarchies the group was made in; cpuacct is no limit.
    v1 = {"memory": Path("/m/g"), "cpu": Path("/c/g"), "cpuacct": Path("/c/g")}
    assert SandboxCgroup(1, v1).controllers == {"memory"}
    assert SandboxCgroup(1, {"pids": Path("/p/g")}, cpu_limited=True).controllers == {"pids", "cpu"}
    assert SandboxCgroup(1).controllers == set()


def test_cpu_seconds_v2_reads_usage_usec(tmp_path):
    group = SandboxCgroup(2, {"unified": tmp_path})
    assert group.cpu_seconds() is None  # no cpu.stat
    (tmp_path / "cpu.stat").write_text("user_usec 5\nusage_usec 2500000\nsystem_usec 7\n")
    assert group.cpu_seconds() == 2.5
    (tmp_path / "cpu.stat").write_text("user_usec 5\nsystem_usec 7\n")
    assert group.cpu_seconds() is None
    (tmp_path / "cpu.stat").write_text("usage_usec lots\n")
    assert group.cpu_seconds() is None
    assert SandboxCgroup(2, {}).cpu_seconds() is None


def test_cpu_seconds_v1_reads_cpuacct_usage(tmp_path):
    (tmp_path / "cpuacct.usage").write_text("3000000000\n")
    assert SandboxCgroup(1, {"cpuacct": tmp_path}).cpu_seconds() == 3.0
    assert SandboxCgroup(1, {"cpu": tmp_path, "memory": tmp_path}).cpu_seconds() is None
    (tmp_path / "cpuacct.usage").write_text("n/a\n")
    assert SandboxCgroup(1, {"cpuacct": tmp_path}).cpu_seconds() is None
    assert SandboxCgroup(1, {"cpuacct": tmp_path / "gone"}).cpu_seconds() is None


def test_procs_files_one_per_group_directory():
    shared = Path("/c/g")
    group = SandboxCgroup(1, {"memory": Path("/m/g"), "cpu": shared, "cpuacct": shared, "pids": Path("/p/g")})
    assert group.procs_files == [Path("/m/g/cgroup.procs"), Path("/c/g/cgroup.procs"), Path("/p/g/cgroup.procs")]
    assert SandboxCgroup(2, {"unified": Path("/u/g")}).procs_files == [Path("/u/g/cgroup.procs")]


def test_oom_kills_v2(tmp_path):
    group = SandboxCgroup(2, {"unified": tmp_path})
    assert group.oom_kills() == 0  # no memory.events yet
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 4\noom_kill 3\n")
    assert group.oom_kills() == 3
    (tmp_path / "memory.events").write_text("low 0\noom 4\n")
    assert group.oom_kills() == 0
    (tmp_path / "memory.events").write_text("oom_kill many\n")
    assert group.oom_kills() == 0
    # The v1 file in a v2 group is not read.
    (tmp_path / "memory.events").unlink()
    (tmp_path / "memory.oom_control").write_text("oom_kill 5\n")
    assert group.oom_kills() == 0


def test_oom_kills_v1(tmp_path):
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 6\n")
    (tmp_path / "memory.events").write_text("oom_kill 1\n")
    assert SandboxCgroup(1, {"memory": tmp_path}).oom_kills() == 6
    assert SandboxCgroup(1, {"pids": tmp_path}).oom_kills() == 0  # no memory hierarchy
    assert SandboxCgroup(1, {"unified": tmp_path}).oom_kills() == 0


def test_kill_all_signals_every_listed_process_but_the_kept(tmp_path, child):
    kept = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        one = group_dir(tmp_path, "memory", (child.pid, NO_SUCH_PID))
        other = group_dir(tmp_path, "pids", (kept.pid,))
        (tmp_path / "cpu").mkdir()  # no cgroup.procs: skipped
        (tmp_path / "garbled").mkdir()
        (tmp_path / "garbled" / "cgroup.procs").write_text("12x\n")
        SandboxCgroup(1, {"memory": one, "pids": other, "cpu": tmp_path / "cpu", "cpuacct": tmp_path / "garbled"}).kill_all(
            keep=frozenset({kept.pid}))
        assert child.wait(timeout=10) == -9
        assert kept.poll() is None
    finally:
        kept.kill()
        kept.wait()


def test_kill_all_uses_cgroup_kill_when_nothing_is_kept(tmp_path, child):
    group = group_dir(tmp_path, pids=(child.pid,))
    (group / "cgroup.kill").write_text("")
    SandboxCgroup(2, {"unified": group}).kill_all()
    assert (group / "cgroup.kill").read_text() == "1"
    assert child.poll() is None  # the kernel kills them; no signal from us
    # With processes to keep, cgroup.kill (which kills all) is not used.
    (group / "cgroup.kill").write_text("")
    SandboxCgroup(2, {"unified": group}).kill_all(keep=frozenset({12345678}))
    assert (group / "cgroup.kill").read_text() == ""
    assert child.wait(timeout=10) == -9


def test_kill_all_when_cgroup_kill_cannot_be_written(tmp_path, child):
    group = group_dir(tmp_path, pids=(child.pid,))
    (group / "cgroup.kill").mkdir()  # writing it fails
    SandboxCgroup(2, {"unified": group}).kill_all()  # no error; nothing else tried
    assert child.poll() is None


def test_kill_all_signals_when_there_is_no_cgroup_kill(tmp_path, child):
    group = group_dir(tmp_path, pids=(child.pid,))
    SandboxCgroup(2, {"unified": group}).kill_all()  # before Linux 5.14
    assert child.wait(timeout=10) == -9
    assert not (group / "cgroup.kill").exists()


def test_a_listed_0_is_never_signalled(tmp_path):
    # The kernel lists a process outside our PID namespace as 0; kill(0) would hit our own process group.
    group = group_dir(tmp_path, pids=(0, 1, NO_SUCH_PID))
    assert SandboxCgroup(2, {"unified": group})._pids() == {1, NO_SUCH_PID}
    (group / "cgroup.procs").write_text("0\n")
    script = (f"import sys; sys.path[:0] = {sys.path!r}; from pathlib import Path; from parley.code.cgroup import "
              f"SandboxCgroup; SandboxCgroup(2, {{'unified': Path({str(group)!r})}}).kill_all(); print('alive')")
    # In a session of its own: were 0 signalled, only that child's group would go.
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, start_new_session=True,
                         timeout=60, check=False)
    assert run.stdout == "alive\n", run.stderr


def test_wait_empty_kills_and_waits_for_the_processes_to_leave(tmp_path, clock, child):
    group = group_dir(tmp_path, pids=(child.pid,))

    def kernel(count):  # a killed process leaves the group once it has ended
        if child.poll() is not None or count >= 3:
            child.wait()
            (group / "cgroup.procs").write_text("")

    clock.on_sleep = kernel
    assert SandboxCgroup(2, {"unified": group}).wait_empty(5) is True
    assert child.returncode == -9
    assert clock.sleeps and all(s == 0.001 for s in clock.sleeps)


def test_wait_empty_of_an_empty_group_returns_at_once(tmp_path, clock):
    assert SandboxCgroup(2, {"unified": group_dir(tmp_path)}).wait_empty(5) is True
    assert clock.sleeps == []


def test_wait_empty_leaves_the_kept_processes(tmp_path, clock, child):
    group = group_dir(tmp_path, pids=(child.pid,))
    assert SandboxCgroup(2, {"unified": group}).wait_empty(5, keep=frozenset({child.pid})) is True
    assert clock.sleeps == [] and child.poll() is None


def test_wait_empty_gives_up_after_the_timeout(tmp_path, clock):
    group = SandboxCgroup(2, {"unified": group_dir(tmp_path, pids=(NO_SUCH_PID,))})  # a process that never leaves
    start = clock.now
    assert group.wait_empty(0.5) is False
    assert 0.5 < clock.now - start <= 0.5 + 0.0011
    assert set(clock.sleeps) == {0.001}


def test_wait_empty_with_no_time_left_still_kills_once(tmp_path, clock, child):
    group = group_dir(tmp_path, pids=(child.pid,))
    assert SandboxCgroup(2, {"unified": group}).wait_empty(0) is False  # still listed: the test plays no kernel
    assert child.wait(timeout=10) == -9
    assert clock.sleeps == [0.001]


def test_remove_kills_what_is_left_and_removes_each_directory(tmp_path, clock, child):
    memory = group_dir(tmp_path, "memory", (child.pid,))
    pids = tmp_path / "pids"
    pids.mkdir()

    def kernel(count):  # the killed process leaves, and with it the files of the stand-in group
        if count == 2:
            child.wait()
            (memory / "cgroup.procs").unlink()

    clock.on_sleep = kernel
    SandboxCgroup(1, {"memory": memory, "pids": pids, "cpu": tmp_path / "never-made"}).remove()
    assert child.returncode == -9
    assert not memory.exists() and not pids.exists()
    assert clock.sleeps == [0.02, 0.02]  # two failed tries on the busy group; none on the missing one


def test_remove_goes_on_after_a_group_already_gone(tmp_path, clock):
    later = tmp_path / "pids"
    later.mkdir()
    SandboxCgroup(1, {"memory": tmp_path / "gone", "pids": later}).remove()
    assert not later.exists() and clock.sleeps == []


def test_remove_gives_up_on_a_group_that_stays_busy(tmp_path, clock):
    busy = group_dir(tmp_path, pids=(NO_SUCH_PID,))
    SandboxCgroup(2, {"unified": busy}).remove()
    assert busy.is_dir()
    assert clock.sleeps == [0.02] * 50


# --- reading the cgroup mounts -------------------------------------------------------------------


def write_mountinfo(tmp_path: Path, lines: list[str], own: list[str], monkeypatch) -> None:
    (tmp_path / "mountinfo").write_text("".join(line + "\n" for line in lines))
    (tmp_path / "own").write_text("".join(line + "\n" for line in own))
    monkeypatch.setattr(cgroup, "MOUNTINFO", str(tmp_path / "mountinfo"))
    monkeypatch.setattr(cgroup, "OWN_CGROUPS", str(tmp_path / "own"))


def test_mounts_lists_cgroup_file_systems_only(tmp_path, monkeypatch):
    write_mountinfo(tmp_path, [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 master:2 - cgroup cgroup rw,cpu,cpuacct",
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate",
        "42 31 0:39 / /sys/fs/cgroup/other rw - cgroup2 none rw",  # the source is free text
        "43 31 0:40 / /not-cgroup rw - tmpfs cgroup rw",
        "50 31 0:40 / /short rw - cgroup cgroup",
    ], [], monkeypatch)
    assert cgroup._mounts() == [
        ("/sys/fs/cgroup/cpu,cpuacct", "cgroup", {"rw", "cpu", "cpuacct"}),
        ("/sys/fs/cgroup/unified", "cgroup2", {"rw", "nsdelegate"}),
        ("/sys/fs/cgroup/other", "cgroup2", {"rw"}),
    ]


def test_own_paths_per_hierarchy(tmp_path, monkeypatch):
    write_mountinfo(tmp_path, [], ["12:memory:/user/a", "3:cpu,cpuacct:/b/", "1:name=systemd:/s", "2:pids:/sandboX",
                                   "5:devices:/trailing space ", "0::/scope:with:colons"], monkeypatch)
    assert cgroup._own_paths() == {
        "memory": "/user/a", "cpu": "/b/", "cpuacct": "/b/", "name=systemd": "/s", "pids": "/sandboX",
        "devices": "/trailing space ", "": "/scope:with:colons",
    }


def test_group_names_carry_the_pid_and_a_random_part():
    first, second = cgroup._new_group_name(), cgroup._new_group_name()
    assert re.fullmatch(rf"parley-sandbox-{os.getpid()}-[0-9a-f]{{8}}", first)
    assert first != second


def test_stale_groups_of_ended_processes_are_removed(tmp_path, child):
    gone = dead_pid()
    names = {
        "stale": f"parley-sandbox-{gone}-0badf00d",
        "stale_busy": f"parley-sandbox-{gone}-0000beef",
        "mine": f"parley-sandbox-{os.getpid()}-12345678",
        "alive": f"parley-sandbox-{child.pid}-abcdef01",
        "not_a_pid": "parley-sandbox-x1-abcdef01",
        "other": f"other-{gone}-abcdef01",
    }
    names.update({f"alive{i}": f"parley-sandbox-{child.pid}-abcdef1{i}" for i in range(8)})  # listed in any order
    names["dashed"] = f"parley-sandbox-{gone}-0bad-f00d"  # the PID is what comes before the first dash
    for name in names.values():
        (tmp_path / name).mkdir()
    (tmp_path / names["stale_busy"] / "cgroup.procs").write_text("")  # a group that will not go (rmdir fails)
    remove_stale_groups(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in names.items() if k not in ("stale", "dashed"))
    assert child.poll() is None  # only asked whether it lives (signal 0)
    remove_stale_groups(tmp_path / "missing")  # no error


def test_groups_of_processes_we_may_not_signal_stay(tmp_path):
    # Processes of root (alive, and unless we are root, not ours to signal: EPERM), listed in any order.
    others = [int(p.name) for p in Path("/proc").iterdir()
              if p.name.isdigit() and p.name != str(os.getpid()) and _owner(p) == 0][:8]
    for pid in others:
        (tmp_path / f"parley-sandbox-{pid}-abcdef01").mkdir()
    stale = tmp_path / f"parley-sandbox-{dead_pid()}-0badf00d"
    stale.mkdir()
    remove_stale_groups(tmp_path)
    assert not stale.exists()
    assert all((tmp_path / f"parley-sandbox-{pid}-abcdef01").is_dir() for pid in others)


def _owner(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


def test_cpu_quota_in_microseconds_per_period():
    assert cgroup._cpu_quota_us(1.5) == 150_000
    assert cgroup._cpu_quota_us(0.0123456) == 1235  # rounded, not cut
    assert cgroup._cpu_quota_us(0.01) == 1000
    assert cgroup._cpu_quota_us(0.001) == 1000  # the kernel refuses quotas under 1 ms


# --- cgroup v2 -----------------------------------------------------------------------------------


def test_v2_in_a_group_that_already_hands_out_memory_and_pids_and_may_enable_cpu(tmp_path):
    own = tmp_path / "app"
    own.mkdir()
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    group = _make_v2(str(tmp_path), "/app/", 64 * MiB, 10, 2.0)
    (path,) = group.dirs.values()
    assert path.parent == own and path.name.startswith(f"parley-sandbox-{os.getpid()}-")
    assert (own / "cgroup.subtree_control").read_text() == "+cpu"
    assert group.version == 2 and group.cpu_limited and group.controllers == {"memory", "pids", "cpu"}
    assert (path / "cpu.max").read_text() == "200000 100000"
    assert (path / "memory.max").read_text() == str(64 * MiB)
    assert (path / "pids.max").read_text() == "10"
    assert not (path / "memory.swap.max").exists()  # only set where the kernel has it


def test_v2_passes_over_groups_it_cannot_read(tmp_path):
    (tmp_path / "cgroup.subtree_control").mkdir()  # reading it fails
    own = tmp_path / "app"
    own.mkdir()
    (own / "cgroup.subtree_control").mkdir()
    with pytest.raises(OSError) as error:
        _make_v2(str(tmp_path), "/app", 64 * MiB, 10, 1.0)
    assert str(error.value) == (f"no cgroup v2 group here hands out memory and pids to us ({own}: Is a directory; "
                                f"{tmp_path}: Is a directory)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_v2_without_cpu_when_it_cannot_be_enabled(tmp_path):
    (tmp_path / "cgroup.subtree_control").write_text("memory pids\n")
    (tmp_path / "cgroup.subtree_control").chmod(0o444)
    group = _make_v2(str(tmp_path), "/", 64 * MiB, 10, 1.0)
    (path,) = group.dirs.values()
    assert not group.cpu_limited and group.controllers == {"memory", "pids"}
    assert not (path / "cpu.max").exists()


def test_v2_enables_memory_and_pids_in_its_own_group_when_available(tmp_path):
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")  # cpu already on
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    group = _make_v2(str(tmp_path), "/", 64 * MiB, 10, 1.0)
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids"
    (path,) = group.dirs.values()
    assert path.parent == tmp_path and group.cpu_limited
    assert (path / "cpu.max").read_text() == "100000 100000"


def test_v2_without_the_cpu_controller_at_all(tmp_path):
    (tmp_path / "cgroup.subtree_control").write_text("")
    (tmp_path / "cgroup.controllers").write_text("memory io pids\n")
    group = _make_v2(str(tmp_path), "/", 64 * MiB, 10, 1.0)
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert not group.cpu_limited and not (group.dirs["unified"] / "cpu.max").exists()


def test_v2_passes_over_ancestors_without_the_controllers(tmp_path):
    own = tmp_path / "a" / "b" / "c"
    own.mkdir(parents=True)
    (own / "cgroup.subtree_control").write_text("")
    (own / "cgroup.controllers").write_text("cpu\n")  # its parent hands it no memory or pids
    (tmp_path / "a" / "b" / "cgroup.subtree_control").write_text("cpu\n")  # not them: passed over
    (tmp_path / "a" / "cgroup.subtree_control").write_text("memory pids\n")  # these, but no cpu
    group = _make_v2(str(tmp_path), "/a/b/c", 64 * MiB, 10, 1.0)
    (path,) = group.dirs.values()
    assert path.parent == tmp_path / "a"
    # cpu is not enabled in an ancestor: its other children are not ours to change.
    assert (tmp_path / "a" / "cgroup.subtree_control").read_text() == "memory pids\n"
    assert not group.cpu_limited and not (path / "cpu.max").exists()


def test_v2_an_own_path_ending_in_x(tmp_path):
    own = tmp_path / "XX"
    own.mkdir()
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    (path,) = _make_v2(str(tmp_path), "/XX/", 64 * MiB, 10, 1.0).dirs.values()
    assert path.parent == own


def test_v2_says_why_no_group_can_be_made(tmp_path):
    own = tmp_path / "a" / "b"
    own.mkdir(parents=True)
    (own / "cgroup.subtree_control").write_text("cpu\n")
    (own / "cgroup.controllers").write_text("cpu io\n")
    (tmp_path / "a" / "cgroup.subtree_control").write_text("cpu io\n")  # an ancestor without them: passed over
    (tmp_path / "cgroup.subtree_control").write_text("")
    with pytest.raises(OSError) as error:
        _make_v2(str(tmp_path), "/a/b", 64 * MiB, 10, 1.0)
    assert str(error.value) == (f"no cgroup v2 group here hands out memory and pids to us ({own} does not get the "
                                "memory and pids controllers)")
    assert not any(p.name.startswith("parley-sandbox-") for p in tmp_path.rglob("*"))


def test_v2_names_at_most_two_reasons(tmp_path):
    for parent in (tmp_path, tmp_path / "a", tmp_path / "a" / "b"):
        parent.mkdir(exist_ok=True)
        (parent / "cgroup.subtree_control").write_text("memory pids\n")
    # Every candidate hands them out, but none lets us make a group: mkdir fails in each.
    for parent in (tmp_path, tmp_path / "a", tmp_path / "a" / "b"):
        parent.chmod(0o555)
    try:
        if os.geteuid() == 0:
            pytest.skip("root writes read-only directories")
        with pytest.raises(OSError) as error:
            _make_v2(str(tmp_path), "/a/b", 64 * MiB, 10, 1.0)
    finally:
        for parent in (tmp_path, tmp_path / "a", tmp_path / "a" / "b"):
            parent.chmod(0o755)
    reasons = str(error.value).removeprefix("no cgroup v2 group here hands out memory and pids to us (").removesuffix(")")
    assert reasons == f"{tmp_path / 'a' / 'b'}: Permission denied; {tmp_path / 'a'}: Permission denied"


def test_v2_removes_stale_groups_where_it_makes_its_own(tmp_path):
    (tmp_path / "cgroup.subtree_control").write_text("memory pids\n")
    stale = tmp_path / f"parley-sandbox-{dead_pid()}-0badf00d"
    stale.mkdir()
    _make_v2(str(tmp_path), "/", 64 * MiB, 10, 1.0)
    assert not stale.exists()


# --- cgroup v1 -----------------------------------------------------------------------------------


def v1_layout(tmp_path: Path, shared_cpu: bool = False) -> tuple[dict[str, str], dict[str, str]]:
    mounts, own = {}, {}
    for controller in ("memory", "pids", "cpu", "cpuacct"):
        mount = tmp_path / ("cpu,cpuacct" if shared_cpu and controller.startswith("cpu") else controller)
        (mount / "user" / "me").mkdir(parents=True, exist_ok=True)
        mounts[controller], own[controller] = str(mount), "/user/me/"
    return mounts, own


def test_v1_writes_each_limit_in_its_hierarchy(tmp_path):
    mounts, own = v1_layout(tmp_path)
    group = _make_v1(mounts, own, 128 * MiB, 20, 0.5)
    assert set(group.dirs) == {"memory", "pids", "cpu", "cpuacct"} and group.version == 1
    names = {path.name for path in group.dirs.values()}
    assert len(names) == 1 and names.pop().startswith(f"parley-sandbox-{os.getpid()}-")
    for controller, path in group.dirs.items():
        assert path.parent == tmp_path / controller / "user" / "me"
    assert (group.dirs["memory"] / "memory.limit_in_bytes").read_text() == str(128 * MiB)
    assert not (group.dirs["memory"] / "memory.memsw.limit_in_bytes").exists()  # only with swap accounting
    assert (group.dirs["pids"] / "pids.max").read_text() == "20"
    assert (group.dirs["cpu"] / "cpu.cfs_period_us").read_text() == "100000"
    assert (group.dirs["cpu"] / "cpu.cfs_quota_us").read_text() == "50000"
    assert sorted(p.name for p in group.dirs["cpuacct"].iterdir()) == []  # read only, for the usage
    assert group.cpu_limited and group.controllers == {"memory", "pids", "cpu"}


def test_v1_cpu_and_cpuacct_mounted_together_share_one_group(tmp_path):
    mounts, own = v1_layout(tmp_path, shared_cpu=True)
    group = _make_v1(mounts, own, 128 * MiB, 20, 1.0)
    assert group.dirs["cpu"] == group.dirs["cpuacct"]
    assert len(group.procs_files) == 3


def test_v1_goes_on_after_a_hierarchy_it_cannot_use(tmp_path):
    mounts, own = v1_layout(tmp_path)
    del mounts["memory"]  # the first one is not mounted: the others still count
    assert set(_make_v1(mounts, own, 128 * MiB, 20, 1.0).dirs) == {"pids", "cpu", "cpuacct"}
    mounts, own = v1_layout(tmp_path / "second")
    (tmp_path / "second" / "memory" / "user" / "me").rmdir()  # the first one cannot be made
    assert set(_make_v1(mounts, own, 128 * MiB, 20, 1.0).dirs) == {"pids", "cpu", "cpuacct"}


def test_v1_only_pids_is_a_group(tmp_path):
    mounts, own = v1_layout(tmp_path)
    group = _make_v1({"pids": mounts["pids"]}, own, 128 * MiB, 20, 1.0)
    assert set(group.dirs) == {"pids"} and group.controllers == {"pids"}


def test_v1_an_own_path_ending_in_x(tmp_path):
    (tmp_path / "memory" / "sandboX").mkdir(parents=True)
    group = _make_v1({"memory": str(tmp_path / "memory")}, {"memory": "/sandboX/"}, 128 * MiB, 20, 1.0)
    assert group.dirs["memory"].parent == tmp_path / "memory" / "sandboX"


def test_v1_skips_hierarchies_it_cannot_use(tmp_path):
    mounts, own = v1_layout(tmp_path)
    del mounts["pids"]  # not mounted
    del own["cpuacct"]  # not in this process's list
    (tmp_path / "cpu" / "user" / "me").rmdir()  # mkdir fails there
    group = _make_v1(mounts, own, 128 * MiB, 20, 1.0)
    assert set(group.dirs) == {"memory"} and not group.cpu_limited


def test_v1_removes_stale_groups_in_each_hierarchy(tmp_path):
    mounts, own = v1_layout(tmp_path)
    gone = dead_pid()
    stale = [tmp_path / c / "user" / "me" / f"parley-sandbox-{gone}-0badf00d" for c in ("memory", "pids")]
    for path in stale:
        path.mkdir()
    _make_v1(mounts, own, 128 * MiB, 20, 1.0)
    assert not any(path.exists() for path in stale)


def test_v1_without_a_limiting_hierarchy_is_an_error(tmp_path):
    mounts, own = v1_layout(tmp_path)
    for controller in ("memory", "pids", "cpu"):
        del mounts[controller]
    with pytest.raises(OSError, match=r"^no writable memory or pids cgroup \(v1\)$"):
        _make_v1(mounts, own, 128 * MiB, 20, 1.0)
    with pytest.raises(OSError, match="no writable memory or pids cgroup"):
        _make_v1({}, {}, 128 * MiB, 20, 1.0)


def test_v1_only_cpu_is_a_group_too(tmp_path):
    mounts, own = v1_layout(tmp_path)
    group = _make_v1({"cpu": mounts["cpu"]}, own, 128 * MiB, 20, 1.0)
    assert set(group.dirs) == {"cpu"} and group.controllers == {"cpu"}


def test_v1_a_failed_limit_write_removes_what_was_made(tmp_path, clock):
    # A group whose path is 4085 characters long can be made, but its memory.limit_in_bytes (22 more)
    # is past PATH_MAX (4096): the write fails with ENAMETOOLONG, as a refused write would.
    mount = tmp_path / "memory"
    parent_length = 4085 - 1 - len(cgroup._new_group_name())
    own = ""
    while len(str(mount)) + len(own) < parent_length:
        own += "/" + "d" * min(200, parent_length - len(str(mount)) - len(own) - 1)
    parent = Path(str(mount) + own)
    parent.mkdir(parents=True)
    assert len(str(parent)) == parent_length
    (tmp_path / "pids" / "me").mkdir(parents=True)
    with pytest.raises(OSError) as error:
        _make_v1({"memory": str(mount), "pids": str(tmp_path / "pids")}, {"memory": own, "pids": "/me"}, 128 * MiB, 20, 1.0)
    assert error.value.errno == 36  # ENAMETOOLONG
    assert list(parent.iterdir()) == []  # the group made is removed again
    assert list((tmp_path / "pids" / "me").iterdir()) == []  # never reached


# --- make_sandbox_cgroup -------------------------------------------------------------------------


def test_make_prefers_v2(tmp_path, monkeypatch):
    unified = tmp_path / "unified"
    (unified / "app").mkdir(parents=True)
    (unified / "app" / "cgroup.subtree_control").write_text("memory pids\n")
    write_mountinfo(tmp_path, [f"41 31 0:38 / {unified} rw - cgroup2 cgroup2 rw"], ["0::/app"], monkeypatch)
    group, note = make_sandbox_cgroup(32 * MiB, 7)
    assert note == "cgroup v2" and group is not None and group.version == 2
    (path,) = group.dirs.values()
    assert (path / "pids.max").read_text() == "7" and (path / "memory.max").read_text() == str(32 * MiB)
    assert (path / "cpu.max").read_text() == "100000 100000"  # one core by default


def test_make_falls_back_to_v1_and_names_its_hierarchies(tmp_path, monkeypatch):
    unified = tmp_path / "unified"
    unified.mkdir()
    (unified / "cgroup.subtree_control").write_text("")
    (unified / "cgroup.controllers").write_text("")
    mounts, _ = v1_layout(tmp_path, shared_cpu=True)
    write_mountinfo(tmp_path, [
        f"32 31 0:29 / {mounts['cpu']} rw - cgroup cgroup rw,cpu,cpuacct",
        f"35 31 0:32 / {mounts['memory']} rw - cgroup cgroup rw,memory",
        f"36 31 0:33 / {tmp_path / 'second-memory'} rw - cgroup cgroup rw,memory",  # the first mount is used
        f"39 31 0:36 / {mounts['pids']} rw - cgroup cgroup_root rw,pids",
        f"41 31 0:38 / {unified} rw - cgroup2 cgroup2 rw",
        f"42 31 0:38 / {tmp_path / 'second-unified'} rw - cgroup2 cgroup2 rw",  # only the first v2 mount is tried
    ], ["4:memory:/user/me", "3:pids:/user/me", "1:cpu,cpuacct:/user/me", "0::/"], monkeypatch)
    group, note = make_sandbox_cgroup(32 * MiB, 7, 0.5)
    assert note == "cgroup v1 (cpu, cpuacct, memory, pids)"
    assert group is not None and group.version == 1
    for controller, mount in (("memory", "memory"), ("pids", "pids"), ("cpu", "cpu,cpuacct"), ("cpuacct", "cpu,cpuacct")):
        assert group.dirs[controller].parent == tmp_path / mount / "user" / "me"
    assert (group.dirs["memory"] / "memory.limit_in_bytes").read_text() == str(32 * MiB)
    assert (group.dirs["pids"] / "pids.max").read_text() == "7"
    assert (group.dirs["cpu"] / "cpu.cfs_quota_us").read_text() == "50000"


def test_make_says_why_when_neither_works(tmp_path, monkeypatch):
    unified = tmp_path / "unified"
    unified.mkdir()
    (unified / "cgroup.subtree_control").write_text("")
    (unified / "cgroup.controllers").write_text("")
    write_mountinfo(tmp_path, [
        f"41 31 0:38 / {unified} rw - cgroup2 cgroup2 rw",
        f"42 31 0:38 / {tmp_path / 'second-unified'} rw - cgroup2 cgroup2 rw",  # not tried
        f"35 31 0:32 / {tmp_path / 'memory'} rw - cgroup cgroup rw,memory",
    ], ["4:memory:/user/me", "0::/"], monkeypatch)
    group, note = make_sandbox_cgroup(32 * MiB, 7)
    assert group is None
    assert note == (f"cgroup v2: no cgroup v2 group here hands out memory and pids to us ({unified} does not get the "
                    "memory and pids controllers); cgroup v1: no writable memory or pids cgroup (v1)")


def test_make_without_v2_membership_tries_v1_only(tmp_path, monkeypatch):
    unified = tmp_path / "unified"
    unified.mkdir()
    (unified / "cgroup.subtree_control").write_text("memory pids\n")  # usable, but we are not in it
    write_mountinfo(tmp_path, [f"41 31 0:38 / {unified} rw - cgroup2 cgroup2 rw"], ["4:memory:/x"], monkeypatch)
    assert make_sandbox_cgroup(32 * MiB, 7) == (None, "no cgroup file system is mounted")
    assert list(unified.iterdir()) == [unified / "cgroup.subtree_control"]


def test_make_with_no_cgroup_mounted(tmp_path, monkeypatch):
    write_mountinfo(tmp_path, ["22 1 8:1 / / rw - ext4 /dev/sda1 rw"], ["0::/"], monkeypatch)
    assert make_sandbox_cgroup(32 * MiB, 7) == (None, "no cgroup file system is mounted")


def test_make_when_cgroups_cannot_be_read(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroup, "MOUNTINFO", str(tmp_path / "missing"))
    group, note = make_sandbox_cgroup(32 * MiB, 7)
    assert group is None
    assert note.startswith("cgroups cannot be read (") and "No such file or directory" in note
    write_mountinfo(tmp_path, [], [], monkeypatch)
    monkeypatch.setattr(cgroup, "OWN_CGROUPS", str(tmp_path / "missing"))
    assert make_sandbox_cgroup(32 * MiB, 7)[1].startswith("cgroups cannot be read (")
