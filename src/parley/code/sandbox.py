"""Running code in a bubblewrap sandbox: the safe default when there is no Docker engine.

Each block runs in fresh namespaces (user, mount, PID, network, IPC, UTS, cgroup): the file system
is an allowlist — the system's programs and libraries and the Python interpreter, read-only; a
read-only root and /etc; size-capped private /tmp and /dev/shm; ``work_dir`` the only writable
host directory. There is no network (not even the host's loopback), no view of other processes,
an environment with no secrets, no capabilities, a seccomp filter (no namespaces, mounts, ptrace,
BPF, keyrings, io_uring, set-ID bits, ...; see :mod:`parley.code.seccomp_filter`), and limits:
memory and processes for the whole sandbox through a cgroup made for the executor where one can
be made (:mod:`parley.code.cgroup`), per-process rlimits always, CPU time, file size, and a cap on
how much a block may add to ``work_dir``'s disk, checked by the host while the block runs.

The code runs as the user running parley, mapped to itself in a user namespace with every
capability dropped; parley never changes the owner or mode of ``work_dir``. When parley runs as
root, the kernel exempts root from the per-user process limit, so the cgroup's ``pids.max`` is
what bounds a fork bomb (see docs/sandbox.md for which limit holds where).
"""

from __future__ import annotations

import functools
import json
import math
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import weakref
from pathlib import Path

from parley import events
from parley.code.base import DEFAULT_MAX_OUTPUT_BYTES, WORKING_DIR, ExecutorSetupError
from parley.code.cgroup import SandboxCgroup, make_sandbox_cgroup
from parley.code.commandline import (
    SHELL_PROGRAMS,
    CommandLineCodeExecutor,
    collect_process,
)
from parley.code.local import check_interpreter
from parley.code.seccomp_filter import seccomp_program

# Top-level system directories exposed read-only (symlinks, as on merged-/usr systems, are recreated).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs need from /etc: the loader cache, alternatives symlinks, time zone. No passwd, no shadow.
_ETC_FILES = ("ld.so.cache", "alternatives", "localtime")
# Host-wide files in /proc that the code, being the calling user (root, when parley runs as root),
# could otherwise write: sysctls (kernel.core_pattern runs a program as the host's root), sysrq,
# MTRRs, pressure triggers, drivers. Bound read-only over themselves.
_PROC_READ_ONLY = ("sys", "sysrq-trigger", "mtrr", "pressure", "fs", "irq", "bus", "acpi", "scsi", "driver", "tty")
# The per-process limits, by prlimit's names.
_RLIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "nproc": resource.RLIMIT_NPROC,
            "fsize": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE}
# Processes in the cgroup besides the code's: bwrap's monitor, the sandbox's init, a spare sandbox.
_BWRAP_PROCESSES = 3
# Cgroup fallbacks already reported in this process.
_NOTED: set[str] = set()
# How often the host checks work_dir's disk while a block runs (seconds).
_DISK_CHECK_INTERVAL = 0.1

_INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; "
    "Arch: pacman -S bubblewrap), or choose another executor: use_docker=True with a running Docker "
    "engine, or use_docker=False to run code on this machine without a sandbox."
)


def find_bwrap() -> str:
    """Path of the ``bwrap`` program, or an error that says how to get it."""
    path = shutil.which("bwrap")
    if path is None:
        raise ExecutorSetupError(f"bubblewrap (bwrap) is not installed, so code cannot run sandboxed. {_INSTALL_HINT}")
    return path


def _require_program(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ExecutorSetupError(
            f"the sandbox needs `{name}`, which is missing. Fix: install {package} (apt-get install {package})."
        )
    return path


def _python_prefixes(python: str) -> tuple[str, ...]:
    """Directories an interpreter loads its standard library and packages from."""
    if python == sys.executable:
        return tuple(dict.fromkeys((sys.prefix, sys.base_prefix)))
    try:
        found = subprocess.run(
            [python, "-c", "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix]))"],
            capture_output=True, text=True, timeout=30, check=True,
        )
        return tuple(dict.fromkeys(json.loads(found.stdout)))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise ExecutorSetupError(
            f"Python interpreter {python!r} does not run ({exc}). Fix: pass python_executable=<a working python>."
        ) from None


# Asked once per interpreter (running one costs tens of milliseconds). Not a decorator: mutmut skips
# decorated functions (docs/mutation.md).
_cached_python_prefixes = functools.cache(_python_prefixes)


def _within_hard_limit(name: str, value: int) -> int:
    """``value``, or this process's own hard limit where that is lower: the sandbox inherits it, and
    raising a hard limit needs privileges (prlimit would fail, and no sandbox would start)."""
    hard = resource.getrlimit(_RLIMITS[name])[1]
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def _discard(proc: subprocess.Popen) -> None:
    """Kill an unused spare sandbox and collect it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    proc.wait()


def _discard_all(spares: list) -> None:
    while spares:
        _discard(spares.pop())


class _DiskWatch:
    """Stops a block that adds more than its quota of bytes or inodes to work_dir's file system, or
    leaves it under the reserve of free bytes or inodes.

    Measured from the file system's free space and free inodes (``fstatvfs`` on the held work_dir
    descriptor), so it costs nothing per file and cannot be fooled by where in work_dir the bytes
    go; it also counts other writers on the same file system, so it errs towards stopping. Checked
    every 0.1 s while the block runs and once more after it ends: a block can overshoot by what it
    writes in 0.1 s (``fallocate``, which would reserve the whole disk in one call, is refused by the
    seccomp filter). File systems that report no inode counts (btrfs) get no inode checks.
    """

    __slots__ = ("fd", "inode_quota", "inode_reserve", "path", "quota", "reserve", "start_free", "start_inodes")

    def __init__(self, fd: int, path: Path, quota: int, reserve: int, inode_quota: int, inode_reserve: int) -> None:
        self.fd, self.path = fd, path
        self.quota, self.reserve, self.inode_quota, self.inode_reserve = quota, reserve, inode_quota, inode_reserve
        self.start_free, self.start_inodes = self._free()

    def _free(self) -> tuple[int, int | None]:
        info = os.fstatvfs(self.fd)
        return info.f_bavail * info.f_frsize, (info.f_favail if info.f_files else None)

    def full_before_start(self) -> str | None:
        if self.start_free < self.reserve:
            return (f"not run: the disk holding work_dir has {self.start_free // 2**20} MiB free, under the "
                    f"{self.reserve // 2**20} MiB the sandbox keeps free; free at least "
                    f"{-(-(self.reserve - self.start_free) // 2**20)} MiB (delete files from {self.path}) to run code again")
        if self.start_inodes is not None and self.start_inodes < self.inode_reserve:
            return (f"not run: the disk holding work_dir has {self.start_inodes} free inodes (files), under the "
                    f"{self.inode_reserve} the sandbox keeps free; delete at least {self.inode_reserve - self.start_inodes} "
                    f"files or directories from {self.path} to run code again")
        return None

    def __call__(self, ended: bool = False) -> str | None:
        free, inodes = self._free()
        what = "wrote" if ended else "killed: the block wrote"
        if self.start_free - free > self.quota:
            return (f"({what} {(self.start_free - free) // 2**20} MiB, more than the work_dir quota of "
                    f"{self.quota // 2**20} MiB per block)")
        if free < self.reserve:
            killed = "" if ended else "killed: "
            return f"({killed}the disk holding work_dir is almost full; {self.reserve // 2**20} MiB are kept free)"
        if inodes is not None and self.start_inodes is not None:
            if self.start_inodes - inodes > self.inode_quota:
                return (f"({what} {self.start_inodes - inodes} new files or directories, more than the work_dir "
                        f"quota of {self.inode_quota} per block)")
            if inodes < self.inode_reserve:
                return (f"({'' if ended else 'killed: '}the disk holding work_dir is almost out of inodes; "
                        f"{self.inode_reserve} are kept free)")
        return None


def refuse_broad_work_dir(work_dir: str | os.PathLike) -> None:
    """An ExecutorSetupError when ``work_dir`` (links followed) is the root, the home folder, a
    folder that holds either, or one that holds the current directory: bound writable into the
    sandbox, it would let the code change ~/.bashrc or ~/.ssh, or the project it was started from."""
    path = Path(os.path.realpath(Path(work_dir).expanduser().absolute()))
    cwd = Path(os.path.realpath(os.getcwd()))
    try:
        home: Path | None = Path(os.path.realpath(Path.home()))
    except (KeyError, RuntimeError):  # no $HOME and no password entry
        home = None
    why = None
    if path == Path("/"):
        why = "the root folder"
    elif home is not None and home != Path("/") and (path == home or path in home.parents):
        why = f"the home folder {home}" if path == home else f"a folder that holds the home folder {home}"
    elif path in cwd.parents:
        why = f"a folder that holds the current directory {cwd}"
    if why is not None:
        raise ExecutorSetupError(
            f"work_dir {str(work_dir)!r} ({path}) is {why}: the sandbox's code can write its work_dir, so it must "
            "not be one that holds your files. Set code_execution_config['work_dir'] to a dedicated folder "
            "(the default is ./parley-work)."
        )


class SandboxCodeExecutor(CommandLineCodeExecutor):
    """Runs each block in a bubblewrap sandbox; only ``work_dir`` is writable."""

    executor_name = "sandbox"

    def __init__(
        self,
        timeout: float = 60,
        work_dir: str | os.PathLike = Path(WORKING_DIR),
        *,
        memory_limit_mb: int = 1024,
        cpu_time_limit_s: int | None = None,
        max_processes: int = 64,
        max_file_size_mb: int = 100,
        tmp_size_mb: int = 256,
        work_dir_quota_mb: int = 1024,
        min_free_disk_mb: int = 512,
        work_dir_inode_quota: int = 100_000,
        min_free_inodes: int = 10_000,
        cpu_limit: float = 1.0,
        python_executable: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        """
        Args:
            timeout: seconds a block may run (wall clock); then the sandbox is killed (exit code 124).
            work_dir: directory the code runs in and the only one it can write; created if missing.
                The default is a dedicated ``parley-work`` folder under the current directory (a
                name Python cannot import), never the current directory itself. It is held open
                from here on: replacing its path later (with a link) changes nothing for the sandbox.
            memory_limit_mb: memory of the whole sandbox (its processes and its /tmp and /dev/shm)
                where a cgroup can be made, and the address-space limit of each process everywhere.
            cpu_time_limit_s: CPU seconds per process (default: the timeout).
            max_processes: processes and threads the code may have at once (the cgroup's
                ``pids.max``; also the per-user rlimit).
            max_file_size_mb: largest file the code may write.
            tmp_size_mb: size of each of the private /tmp and /dev/shm.
            work_dir_quota_mb: how much one block may add to the disk holding ``work_dir``.
            min_free_disk_mb: a block is stopped (or not started) when that disk has less free.
            work_dir_inode_quota: how many files and directories one block may add to that disk.
            min_free_inodes: a block is stopped (or not started) when that disk has fewer free inodes.
            cpu_limit: CPU cores the whole sandbox may use at once (the cgroup's CPU quota, where a
                cgroup with the cpu controller can be made; e.g. 0.5 or 2).
            python_executable: interpreter for Python blocks (default: the current one); its
                installation is exposed read-only.
            env: variables to pass in on purpose; nothing else from the caller's environment is.
            max_output_bytes: output beyond this is cut from the middle, with a marker.
        """
        for name, value in (("memory_limit_mb", memory_limit_mb), ("max_processes", max_processes),
                            ("max_file_size_mb", max_file_size_mb), ("tmp_size_mb", tmp_size_mb),
                            ("work_dir_quota_mb", work_dir_quota_mb), ("min_free_disk_mb", min_free_disk_mb),
                            ("work_dir_inode_quota", work_dir_inode_quota), ("min_free_inodes", min_free_inodes)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if (not isinstance(cpu_limit, (int, float)) or isinstance(cpu_limit, bool) or not math.isfinite(cpu_limit)
                or not 0.01 <= cpu_limit <= 1024):
            raise ValueError(f"cpu_limit must be a number of CPU cores from 0.01 to 1024, got {cpu_limit!r}")
        refuse_broad_work_dir(work_dir)
        self._bwrap = find_bwrap()
        self._prlimit = _require_program("prlimit", "util-linux")
        self._seccomp = seccomp_program()  # no filter, no sandbox: a missing library is an error, not a silent gap
        super().__init__(work_dir, timeout, max_output_bytes)
        if self.work_dir == Path.cwd() or self.work_dir in Path.cwd().parents:
            events.emit(events.Notice(
                text=f"the sandbox's work_dir {self.work_dir} is the current directory or holds it: sandboxed code can "
                     "read and change everything there (.env, .git/config). Prefer a dedicated folder.",
                level="warning",
            ))
        self.python_executable = check_interpreter(
            os.path.abspath(python_executable or sys.executable), "pass python_executable=<path to python>"
        )
        self.limits = {
            "as": memory_limit_mb * 2**20,
            "cpu": cpu_time_limit_s if cpu_time_limit_s is not None else max(1, math.ceil(timeout)),
            "nproc": max_processes,
            "fsize": max_file_size_mb * 2**20,
            "core": 0,
        }
        self.memory_limit_mb = memory_limit_mb
        self._tmp_size = tmp_size_mb * 2**20
        self._quota = work_dir_quota_mb * 2**20
        self._reserve = min_free_disk_mb * 2**20
        self._inode_quota, self._inode_reserve = work_dir_inode_quota, min_free_inodes
        self.cpu_limit = float(cpu_limit)
        # One block at a time: two chats sharing this executor (agents with one config share it)
        # share its cgroup, and starting a block clears the cgroup of the previous one's processes.
        # Reentrant: code_utils.execute_code runs a saved file through _run_file directly.
        self._run_lock = threading.RLock()
        self._git_noted = False
        self.cgroup, self.cgroup_note = self._make_cgroup(memory_limit_mb * 2**20, max_processes + _BWRAP_PROCESSES)
        # A sandbox started ahead of time and already in the cgroup, waiting for the next block.
        self._spare: list[subprocess.Popen] = []
        self._spare_lock = threading.Lock()
        weakref.finalize(self, _discard_all, self._spare)
        self._env = self._sandbox_env(env or {})
        self._prefix = self._sandbox_argv()
        self._check_sandbox_runs()

    def _make_cgroup(self, memory_bytes: int, max_pids: int) -> tuple[SandboxCgroup | None, str]:
        cgroup, note = make_sandbox_cgroup(memory_bytes, max_pids, self.cpu_limit)
        if cgroup is not None:
            weakref.finalize(self, cgroup.remove)
        missing = {"memory", "pids"} - (cgroup.controllers if cgroup else set())
        if missing and note not in _NOTED:
            _NOTED.add(note)  # once per process, not once per executor
            # Root is exempt from the per-user process limit: without a pids cgroup nothing bounds a fork bomb.
            bound = "only the timeout bounds the number of processes" if "pids" in missing and os.geteuid() == 0 else \
                "per-process rlimits apply instead"
            events.emit(events.Notice(
                text=f"the sandbox has no cgroup for {' and '.join(sorted(missing))} here ({note}); {bound}. "
                     "See docs/sandbox.md.",
                level="warning",
            ))
        return cgroup, note

    def _sandbox_env(self, extra: dict[str, str]) -> dict[str, str]:
        # This is bwrap's own environment too (readable as /proc/1/environ inside): nothing secret.
        bin_dirs = [os.path.dirname(self.python_executable), "/usr/local/bin", "/usr/bin", "/bin"]
        env = {
            "PATH": os.pathsep.join(dict.fromkeys(bin_dirs)),
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "MPLBACKEND": "Agg",
        }
        for key, value in extra.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"env must map str to str; got {key!r}: {type(value).__name__}")
            env[key] = value
        return env

    def _sandbox_argv(self) -> list[str]:
        """bwrap's command line up to (not including) the program to run; ``{seccomp_fd}`` is filled in per block."""
        argv = []
        argv += [self._bwrap, "--die-with-parent", "--new-session"]
        # A user namespace even as root: the code is the calling user mapped to itself, with every
        # capability dropped, and may not make user namespaces of its own.
        # --as-pid-1 with a shell as init (below): bwrap's own init would outlive bwrap for a moment as
        # an orphan, reaped by the host's init whenever it gets to it, holding a pids-cgroup slot.
        argv += ["--unshare-user", "--disable-userns", "--unshare-ipc", "--unshare-pid", "--as-pid-1", "--unshare-net",
                 "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL"]
        read_only: list[str] = []
        for path in _SYSTEM_DIRS:
            if os.path.islink(path):
                argv += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                argv += ["--ro-bind", path, path]
                read_only.append(path)
        argv += ["--dir", "/etc"]
        for name in _ETC_FILES:
            argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        size = str(self._tmp_size)
        argv += ["--proc", "/proc"]
        for name in _PROC_READ_ONLY:
            argv += ["--ro-bind-try", f"/proc/{name}", f"/proc/{name}"]
        argv += ["--dev", "/dev",
                 "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
        made = set(read_only) | {"/", "/etc", "/tmp", "/dev"}
        # Directories whose host contents the sandbox sees (not the empty parents made for them).
        shown = set(read_only)

        def bind(flag: str, path: str) -> None:
            nonlocal argv
            # bwrap makes missing parents mode 0700; create them 0755 so they can be passed through.
            for parent in reversed(Path(path).parents):
                p = str(parent)
                if p not in made and not any(p.startswith(r + "/") for r in read_only):
                    argv += ["--dir", p]
                    made.add(p)
            argv += [flag, "{work_dir_fd}" if flag == "--bind-fd" else path, path]
            made.add(path)
            shown.add(path)

        work_dir = str(self.work_dir)
        # The directory held open since construction, not whatever the path names now.
        bind("--bind-fd", work_dir)
        # The interpreter's installation (a venv and the Python it is based on), read-only: the
        # whole prefix in one mount, unless it is a directory that holds more than Python.
        home = str(Path.home())
        real_python = os.path.realpath(self.python_executable)
        for prefix in _cached_python_prefixes(self.python_executable):
            if prefix == "/usr" or prefix.startswith("/usr/"):
                continue
            if prefix in ("/", home):
                for sub in ("bin", "lib", "lib64"):
                    if os.path.isdir(os.path.join(prefix, sub)):
                        bind("--ro-bind", os.path.join(prefix, sub))
            else:
                bind("--ro-bind", prefix)
        if not any(real_python.startswith(d + "/") for d in shown):
            bind("--ro-bind", os.path.dirname(real_python))
        # Nothing writable but work_dir, /tmp and /dev/shm (both size-capped): the root, /etc and /dev
        # are bwrap's own tmpfs mounts, unbounded unless read-only.
        argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
        argv += ["--seccomp", "{seccomp_fd}", "--chdir", work_dir, "--"]
        limits = [f"--{name}={_within_hard_limit(name, value)}" for name, value in self.limits.items() if name != "cpu"]
        # CPU: SIGXCPU at the soft limit (reported as such), SIGKILL a second later if it is caught.
        cpu_hard = _within_hard_limit("cpu", self.limits["cpu"] + 1)
        limits.append(f"--cpu={min(self.limits['cpu'], max(cpu_hard - 1, 1))}:{cpu_hard}")
        argv += [self._prlimit, *limits, "--"]
        # The sandbox's PID 1: runs the program as its child (so the kernel's signals for the limits
        # reach it: PID 1 ignores them) and exits with its status; its exit ends the namespace.
        argv += ["/bin/sh", "-c", '"$@"; exit $?', "sandbox-init"]
        return argv

    def _start(self, program: list[str] | None) -> subprocess.Popen:
        """Start a sandbox for ``program``; with None, a spare that joins the cgroup now and reads
        the interpreter and the file to run from its stdin later.

        Joining a cgroup waits for an RCU grace period in the kernel (often 5-15 ms on a busy
        machine): a spare pays it between blocks instead of during one.
        """
        read_fd, write_fd = os.pipe()
        try:
            os.write(write_fd, self._seccomp)  # small (about 1 kB): fits the pipe's buffer
            os.close(write_fd)
            write_fd = -1
            fds = {"{seccomp_fd}": str(read_fd), "{work_dir_fd}": str(self.work_dir_fd)}
            bwrap = [fds.get(arg, arg) for arg in self._prefix]
            if self.cgroup is None:
                argv = bwrap + (program or [])
            else:
                # The first process joins the cgroup, then becomes bwrap: everything in the sandbox is counted.
                joins = " && ".join(f"echo 0 > {shlex.quote(str(path))}" for path in self.cgroup.procs_files)
                if program is None:
                    script = f'{joins} && read -r program && read -r file && exec "$@" "$program" "$file" </dev/null'
                else:
                    script = f'{joins} && exec "$@"'
                argv = ["/bin/sh", "-c", script, "sandbox", *bwrap, *(program or [])]
            return subprocess.Popen(
                argv, cwd="/", env=self._env,
                stdin=subprocess.PIPE if program is None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(read_fd, self.work_dir_fd),
            )
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    def spare_pids(self) -> frozenset[int]:
        """PIDs of the spare sandbox waiting for the next block (in the cgroup, running nothing yet)."""
        with self._spare_lock:
            return frozenset(proc.pid for proc in self._spare)

    def _take_spare(self, program: list[str]) -> subprocess.Popen | None:
        """The spare sandbox, handed ``program``; None when there is none ready (or it died)."""
        with self._spare_lock:
            spare = self._spare[0] if self._spare else None
            self._spare.clear()
        if spare is None:
            return None
        try:
            if spare.poll() is not None or spare.stdin is None or any("\n" in arg for arg in program):
                raise OSError("not usable")
            spare.stdin.write(("\n".join(program) + "\n").encode("utf-8", errors="surrogateescape"))
            spare.stdin.close()
        except OSError:
            _discard(spare)
            return None
        return spare

    def _make_spare(self) -> None:
        if self.cgroup is None:
            return
        spare = self._start(None)
        with self._spare_lock:
            if self._spare:  # another thread made one meanwhile
                _discard(spare)
            else:
                self._spare.append(spare)

    def _run_sandboxed(self, program: list[str], timeout: float, max_output_bytes: int, watch=None):
        """Run ``program`` (an interpreter and a file, or any command) in a fresh sandbox."""
        proc = self._take_spare(program) if len(program) == 2 else None
        if proc is None:
            proc = self._start(program)
        try:
            return collect_process(
                proc, timeout=timeout, max_output_bytes=max_output_bytes, watch=watch, watch_interval=_DISK_CHECK_INTERVAL,
            )
        finally:
            try:
                self._make_spare()
            except OSError:
                pass  # no spare: the next block starts its sandbox itself

    def _check_sandbox_runs(self) -> None:
        """Run an empty program once, so a sandbox that cannot start fails here, clearly."""
        outcome = self._run_sandboxed([self.python_executable, "-c", "pass"], 60, 4000)
        if outcome.exit_code != 0:
            raise ExecutorSetupError(
                f"the bubblewrap sandbox does not start here (exit code {outcome.exit_code}): {outcome.output.strip()}. "
                "If it says the user namespace cannot be created, enable unprivileged user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 allow bwrap in AppArmor). "
                + _INSTALL_HINT
            )

    def execute_code_blocks(self, code_blocks):
        with self._run_lock:
            return super().execute_code_blocks(code_blocks)

    def _save_code(self, code: str, lang: str) -> Path:
        # The previous block's sandbox is killed with its init but takes a few ms to go: wait for
        # it here rather than after each block, so that nothing of it runs while the host writes.
        if self.cgroup is not None and not self.cgroup.wait_empty(5, keep=self.spare_pids()):
            raise ValueError("the previous block's sandbox did not stop; not saving the next block")
        replaced = self.work_dir_replaced()
        if replaced is not None:
            raise ValueError(replaced)
        return super()._save_code(code, lang)

    def _run_file(self, lang: str, path) -> tuple[int, str]:
        with self._run_lock:
            return self._run_file_locked(lang, path)

    def _run_file_locked(self, lang: str, path) -> tuple[int, str]:
        disk = _DiskWatch(self.work_dir_fd, self.work_dir, self._quota, self._reserve, self._inode_quota, self._inode_reserve)
        refusal = disk.full_before_start()
        if refusal is not None:
            return 1, refusal
        oom_before = self.cgroup.oom_kills() if self.cgroup is not None else 0
        program = self.python_executable if lang == "python" else SHELL_PROGRAMS[lang]
        outcome = self._run_sandboxed([program, str(path)], self.timeout, self.max_output_bytes, watch=disk)
        output = outcome.output
        note = None
        if outcome.stopped is not None:
            note = outcome.stopped
        elif self.cgroup is not None and self.cgroup.oom_kills() > oom_before:
            note = f"(killed: the sandbox's memory limit of {self.memory_limit_mb} MiB was reached)"
        elif outcome.exit_code == 128 + 24:
            note = "(killed: CPU time limit reached)"
        elif outcome.exit_code == 128 + 25:
            note = "(killed: file size limit reached)"
        exit_code = outcome.exit_code
        if note is None:
            # Whatever the block did in its last 0.1 s (or all of it, when it was quick).
            note = disk(ended=True)
            if note is not None and exit_code == 0:
                exit_code = 1
        if note is not None:
            output += ("" if not output or output.endswith("\n") else "\n") + note
        self._note_git_repository()
        return exit_code, output

    def _note_git_repository(self) -> None:
        """Warn (once per executor) when work_dir holds a .git: a repository planted by the code runs
        commands of its choosing (core.fsmonitor, hooks) when the host runs git there (shell prompts, IDEs)."""
        try:
            os.stat(".git", dir_fd=self.work_dir_fd, follow_symlinks=False)
        except OSError:
            self._git_noted = False
            return
        if not self._git_noted:
            self._git_noted = True
            events.emit(events.Notice(
                text=f"work_dir {self.work_dir} now holds a .git: do not run git (or a git-aware prompt or IDE) there; "
                     "its config can run commands on this machine. See docs/sandbox.md.",
                level="warning",
            ))
