"""A control group made for one sandbox executor: memory, process and CPU limits for the whole sandbox.

Per-process rlimits do not bound a sandbox: eight processes under a 1 GiB address-space limit
hold 8 GiB, and a tmpfs is memory no process owns. A cgroup counts every process of the
sandbox and every page they put in its tmpfs mounts. Where one can be made:

- cgroup v2 (unified): a child of this process's own cgroup when that cgroup delegates the
  ``memory`` and ``pids`` controllers (listed in its ``cgroup.subtree_control``, or enabled
  there by us when allowed), else of the nearest ancestor that has them enabled and lets us make
  a group: ``memory.max``, ``memory.swap.max = 0``, ``pids.max``, and ``cpu.max`` where the
  ``cpu`` controller is handed out too.
- cgroup v1: a child of this process's cgroup in the ``memory`` hierarchy
  (``memory.limit_in_bytes``, and ``memory.memsw.limit_in_bytes`` when swap accounting is on)
  in the ``pids`` hierarchy (``pids.max``) and in the ``cpu`` hierarchy (``cpu.cfs_quota_us`` over
  ``cpu.cfs_period_us``; and ``cpuacct``, to read the usage), each where it is writable (as root, usually).

The sandbox's first process joins by writing its PID to the group's ``cgroup.procs`` before it
starts bubblewrap, so everything after it is inside. Where neither works, :func:`make_sandbox_cgroup`
returns None with the reason, and the sandbox falls back to rlimits and size-capped tmpfs mounts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

# Where this process's cgroup mounts and memberships are read; tests point these at files of their own.
MOUNTINFO = "/proc/self/mountinfo"
OWN_CGROUPS = "/proc/self/cgroup"
# The clock and the pause of the waits for killed processes to leave; tests replace them (no wall clock).
monotonic = time.monotonic
sleep = time.sleep


@dataclass
class SandboxCgroup:
    """The cgroup directories of one sandbox (one per hierarchy; one in all on cgroup v2)."""

    version: int
    """1 or 2."""
    dirs: dict[str, Path] = field(default_factory=dict)
    """controller (``memory``, ``pids``, ``cpu``, ``cpuacct``; ``unified`` on v2) -> the group's directory."""
    cpu_limited: bool = False
    """Whether the CPU quota is set (v2: the cpu controller was handed out)."""

    @property
    def controllers(self) -> set[str]:
        found = {"memory", "pids"} if self.version == 2 else set(self.dirs) & {"memory", "pids"}
        return found | ({"cpu"} if self.cpu_limited else set())

    def cpu_seconds(self) -> float | None:
        """CPU time the group's processes have used so far (None where it cannot be read)."""
        try:
            if self.version == 2:
                for line in (self.dirs["unified"] / "cpu.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "usage_usec":
                        return int(value) / 1e6
                return None
            directory = self.dirs.get("cpuacct")
            return int((directory / "cpuacct.usage").read_text()) / 1e9 if directory is not None else None
        except (OSError, ValueError, KeyError):
            return None

    @property
    def procs_files(self) -> list[Path]:
        """Files the sandbox's first process writes its PID to, to join the group."""
        return [path / "cgroup.procs" for path in dict.fromkeys(self.dirs.values())]

    def oom_kills(self) -> int:
        """How many processes the memory limit has killed so far."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        directory = self.dirs.get("unified" if self.version == 2 else "memory")
        if directory is None:
            return 0
        try:
            for line in (directory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def _pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs.values():
            with contextlib.suppress(OSError, ValueError):
                found.update(int(pid) for pid in (path / "cgroup.procs").read_text().split())
        # The kernel lists a process outside our PID namespace as 0, and kill(0) would signal our own group.
        return {pid for pid in found if pid > 0}

    def kill_all(self, keep: frozenset[int] = frozenset()) -> None:
        """Kill whatever is in the group but ``keep``."""
        kill_file = self.dirs.get("unified", Path("/nonexistent")) / "cgroup.kill"
        if not keep and kill_file.exists():  # cgroup v2 (Linux 5.14+): the kernel kills them all at once
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
            return
        for pid in self._pids() - keep:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def wait_empty(self, timeout: float, keep: frozenset[int] = frozenset()) -> bool:
        """Kill what is in the group but ``keep`` and wait until it is gone (True), or ``timeout`` passes."""
        deadline = monotonic() + timeout
        while self._pids() - keep:
            if monotonic() > deadline:
                return False
            self.kill_all(keep)
            sleep(0.001)
        return True

    def remove(self) -> None:
        """Remove the group (after killing what is left in it)."""
        self.kill_all()
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    sleep(0.02)  # killed processes take a moment to leave


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file system type, super options) of every cgroup mount."""
    found = []
    with open(MOUNTINFO) as mountinfo:
        for line in mountinfo:
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
                found.append((fields[4], rest[0], set(rest[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """hierarchy key (a v1 controller, or "" for v2) -> this process's cgroup path."""
    paths = {}
    with open(OWN_CGROUPS) as own:
        for line in own:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


def _write(path: Path, value: str) -> None:
    path.write_text(value)


_GROUP_PREFIX = "parley-sandbox-"


def _new_group_name() -> str:
    return f"{_GROUP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"


def remove_stale_groups(parent: Path) -> None:
    """Remove the empty groups that processes which are gone left under ``parent`` (one killed
    before its clean-up ran): rmdir fails on a group that still holds processes, so nothing else goes."""
    try:
        names = [entry.name for entry in os.scandir(parent) if entry.name.startswith(_GROUP_PREFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(_GROUP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its process is alive: its group is in use
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            (parent / name).rmdir()
        except OSError:
            pass


_CPU_PERIOD_US = 100_000  # the kernel's default CFS period


def _cpu_quota_us(cpu_limit: float) -> int:
    return max(1000, round(cpu_limit * _CPU_PERIOD_US))  # the kernel refuses quotas under 1 ms


def _make_v2(mount: str, own: str, memory_bytes: int, max_pids: int, cpu_limit: float) -> SandboxCgroup:
    """A group under this process's cgroup, or under the nearest ancestor that hands out memory and
    pids and lets us make a group (root on a systemd host: the session scope holds processes, so it
    cannot enable controllers for children, but its slice has them enabled)."""
    mount_root = Path(mount)
    start = Path(mount + own.rstrip("/")) if own.rstrip("/") else mount_root
    candidates = [start, *(p for p in start.parents if p == mount_root or mount_root in p.parents)]
    reasons = []
    for parent in candidates:
        try:
            enabled = set((parent / "cgroup.subtree_control").read_text().split())
            cpu_on = "cpu" in enabled
            if not {"memory", "pids"} <= enabled:
                if parent != start:
                    continue
                available = set((parent / "cgroup.controllers").read_text().split())
                if not {"memory", "pids"} <= available:
                    reasons.append(f"{parent} does not get the memory and pids controllers")
                    continue
                cpu_on = cpu_on or "cpu" in available
                # Fails if this group holds processes.
                _write(parent / "cgroup.subtree_control", "+memory +pids" + (" +cpu" if cpu_on and "cpu" not in enabled else ""))
            elif not cpu_on and parent == start:
                try:  # no CPU quota is not a reason to give up the group
                    _write(parent / "cgroup.subtree_control", "+cpu")
                    cpu_on = True
                except OSError:
                    pass
            remove_stale_groups(parent)
            group = parent / _new_group_name()
            group.mkdir()
        except OSError as exc:
            reasons.append(f"{parent}: {exc.strerror or exc}")
            continue
        made = SandboxCgroup(version=2, dirs={"unified": group})
        try:
            _write(group / "memory.max", str(memory_bytes))
            if (group / "memory.swap.max").exists():
                _write(group / "memory.swap.max", "0")
            _write(group / "pids.max", str(max_pids))
            if cpu_on:
                _write(group / "cpu.max", f"{_cpu_quota_us(cpu_limit)} {_CPU_PERIOD_US}")
                made.cpu_limited = True
        except OSError:
            made.remove()
            raise
        return made
    raise OSError("no cgroup v2 group here hands out memory and pids to us (" + "; ".join(reasons[:2]) + ")")


def _make_v1(mounts: dict[str, str], own: dict[str, str], memory_bytes: int, max_pids: int, cpu_limit: float) -> SandboxCgroup:
    made = SandboxCgroup(version=1)
    name = _new_group_name()
    try:
        for controller in ("memory", "pids", "cpu", "cpuacct"):
            if controller not in mounts or controller not in own:
                continue
            group = Path(mounts[controller] + own[controller].rstrip("/")) / name
            if group in made.dirs.values():  # cpu and cpuacct mounted together: one group
                made.dirs[controller] = group
                continue
            remove_stale_groups(group.parent)
            try:
                group.mkdir()
            except OSError:
                continue  # not writable here: this limit falls back to rlimits
            made.dirs[controller] = group
            if controller == "memory":
                _write(group / "memory.limit_in_bytes", str(memory_bytes))
                if (group / "memory.memsw.limit_in_bytes").exists():  # swap accounting on: no swap beyond it
                    _write(group / "memory.memsw.limit_in_bytes", str(memory_bytes))
            elif controller == "pids":
                _write(group / "pids.max", str(max_pids))
            elif controller == "cpu":
                _write(group / "cpu.cfs_period_us", str(_CPU_PERIOD_US))
                _write(group / "cpu.cfs_quota_us", str(_cpu_quota_us(cpu_limit)))
                made.cpu_limited = True
    except OSError:
        made.remove()
        raise
    if not set(made.dirs) & {"memory", "pids", "cpu"}:
        raise OSError("no writable memory or pids cgroup (v1)")
    return made


def make_sandbox_cgroup(memory_bytes: int, max_pids: int, cpu_limit: float = 1.0) -> tuple[SandboxCgroup | None, str]:
    """A new cgroup with these limits, and a word on what it covers; (None, why) where none can be made."""
    try:
        mounts = _mounts()
        own = _own_paths()
    except OSError as exc:
        return None, f"cgroups cannot be read ({exc})"
    reasons = []
    for mount, fstype, _ in mounts:
        if fstype == "cgroup2" and "" in own:
            try:
                return _make_v2(mount, own[""], memory_bytes, max_pids, cpu_limit), "cgroup v2"
            except OSError as exc:
                reasons.append(f"cgroup v2: {exc}")
            break
    v1: dict[str, str] = {}  # controller -> its mount point
    for mount, fstype, options in mounts:
        if fstype == "cgroup":
            for controller in ("memory", "pids", "cpu", "cpuacct"):
                if controller in options:
                    v1.setdefault(controller, mount)
    if v1:
        try:
            group = _make_v1(v1, own, memory_bytes, max_pids, cpu_limit)
            return group, "cgroup v1 (" + ", ".join(sorted(group.dirs)) + ")"
        except OSError as exc:
            reasons.append(f"cgroup v1: {exc}")
    return None, "; ".join(reasons) or "no cgroup file system is mounted"
