"""Running code in a bubblewrap sandbox: the safe default when there is no Docker engine.

Each block runs in fresh namespaces (mount, PID, network, IPC, UTS): the file system is an
allowlist — the system's programs and libraries and the Python interpreter, read-only; a small
private /tmp; ``work_dir`` the only writable host directory. There is no network (not even the
host's loopback), no view of other processes, an environment with no secrets, and limits on
memory, CPU time, processes and file size.

When parley runs as root, the code runs as the unprivileged ``nobody`` user inside the sandbox
(root is exempt from the process limit and owns too much), so ``work_dir`` is handed to that user.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from parley.code.base import DEFAULT_MAX_OUTPUT_BYTES, ExecutorSetupError
from parley.code.commandline import SHELL_PROGRAMS, CommandLineCodeExecutor, run_process
from parley.code.local import check_interpreter

SANDBOX_UID = SANDBOX_GID = 65534  # nobody / nogroup: who runs the code when parley itself runs as root

# Top-level system directories exposed read-only (symlinks, as on merged-/usr systems, are recreated).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs need from /etc: the loader cache, alternatives symlinks, time zone. No passwd, no shadow.
_ETC_FILES = ("ld.so.cache", "alternatives", "localtime")

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
        raise ExecutorSetupError(f"the sandbox needs `{name}`, which is missing. Fix: install {package} (apt-get install {package}).")
    return path


@functools.cache
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


class SandboxCodeExecutor(CommandLineCodeExecutor):
    """Runs each block in a bubblewrap sandbox; only ``work_dir`` is writable."""

    executor_name = "sandbox"

    def __init__(
        self,
        timeout: float = 60,
        work_dir: str | os.PathLike = Path("."),
        *,
        memory_limit_mb: int = 1024,
        cpu_time_limit_s: int | None = None,
        max_processes: int = 64,
        max_file_size_mb: int = 100,
        tmp_size_mb: int = 256,
        python_executable: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        """
        Args:
            timeout: seconds a block may run (wall clock); then the sandbox is killed (exit code 124).
            work_dir: directory the code runs in and the only one it can write; created if missing.
            memory_limit_mb: address-space limit of each process.
            cpu_time_limit_s: CPU seconds per process (default: the timeout).
            max_processes: processes and threads the code may have at once.
            max_file_size_mb: largest file the code may write.
            tmp_size_mb: size of the private /tmp.
            python_executable: interpreter for Python blocks (default: the current one); its
                installation is exposed read-only.
            env: variables to pass in on purpose; nothing else from the caller's environment is.
            max_output_bytes: output beyond this is cut from the middle, with a marker.
        """
        for name, value in (("memory_limit_mb", memory_limit_mb), ("max_processes", max_processes),
                            ("max_file_size_mb", max_file_size_mb), ("tmp_size_mb", tmp_size_mb)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self._bwrap = find_bwrap()
        self._prlimit = _require_program("prlimit", "util-linux")
        self._as_root = os.geteuid() == 0
        self._setpriv = _require_program("setpriv", "util-linux") if self._as_root else None
        super().__init__(work_dir, timeout, max_output_bytes)
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
        self._tmp_size = tmp_size_mb * 2**20
        if self._as_root:
            # nobody writes there; root's group keeps access for bwrap, which runs without capabilities.
            os.chown(self.work_dir, SANDBOX_UID, 0)
            os.chmod(self.work_dir, stat.S_IMODE(self.work_dir.stat().st_mode) | 0o750)
        self._env = self._sandbox_env(env or {})
        self._prefix = self._sandbox_argv()
        self._check_sandbox_runs()

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
        """bwrap and prlimit arguments up to (not including) the program to run."""
        argv = [self._bwrap, "--die-with-parent", "--new-session"]
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if self._as_root:
            # Keep only what `setpriv` needs to become nobody; nobody then has no capabilities at all.
            argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            argv += ["--unshare-user"]
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
        argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(self._tmp_size), "--tmpfs", "/tmp"]
        made = set(read_only) | {"/", "/etc", "/tmp"}

        def bind(flag: str, path: str) -> None:
            nonlocal argv
            # bwrap makes missing parents mode 0700; create them 0755 so nobody can pass through.
            for parent in reversed(Path(path).parents):
                p = str(parent)
                if p not in made and not any(p.startswith(r + "/") for r in read_only):
                    argv += ["--dir", p]
                    made.add(p)
            argv += [flag, path, path]
            made.add(path)

        work_dir = str(self.work_dir)
        bind("--bind", work_dir)
        # The interpreter's installation (a venv and the Python it is based on), read-only: the
        # whole prefix in one mount, unless it is a directory that holds more than Python.
        home = str(Path.home())
        real_python = os.path.realpath(self.python_executable)
        for prefix in _python_prefixes(self.python_executable):
            if prefix == "/usr" or prefix.startswith("/usr/"):
                continue
            if prefix in ("/", home):
                for sub in ("bin", "lib", "lib64"):
                    if os.path.isdir(os.path.join(prefix, sub)):
                        bind("--ro-bind", os.path.join(prefix, sub))
            else:
                bind("--ro-bind", prefix)
        if not any(real_python.startswith(d + "/") for d in made if d != "/"):
            bind("--ro-bind", os.path.dirname(real_python))
        argv += ["--chdir", work_dir, "--"]
        if self._as_root:
            argv += [self._setpriv, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}", "--clear-groups", "--inh-caps=-all", "--"]
        limits = [f"--{name}={value}" for name, value in self.limits.items() if name != "cpu"]
        # CPU: SIGXCPU at the soft limit (reported as such), SIGKILL a second later if it is caught.
        limits.append(f"--cpu={self.limits['cpu']}:{self.limits['cpu'] + 1}")
        argv += [self._prlimit, *limits, "--"]
        return argv

    def _check_sandbox_runs(self) -> None:
        """Run an empty program once, so a sandbox that cannot start fails here, clearly."""
        outcome = run_process(
            self._prefix + [self.python_executable, "-c", "pass"],
            cwd=self.work_dir, env=self._env, timeout=60, max_output_bytes=4000,
        )
        if outcome.exit_code != 0:
            raise ExecutorSetupError(
                f"the bubblewrap sandbox does not start here (exit code {outcome.exit_code}): {outcome.output.strip()}. "
                "If it says the user namespace cannot be created, enable unprivileged user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 allow bwrap in AppArmor). "
                + _INSTALL_HINT
            )

    def _run_file(self, lang: str, path) -> tuple[int, str]:
        program = self.python_executable if lang == "python" else SHELL_PROGRAMS[lang]
        outcome = run_process(
            self._prefix + [program, str(path)],
            cwd=self.work_dir, env=self._env, timeout=self.timeout, max_output_bytes=self.max_output_bytes,
        )
        output = outcome.output
        if outcome.exit_code == 128 + 24:
            output += "\n(killed: CPU time limit reached)"
        elif outcome.exit_code == 128 + 25:
            output += "\n(killed: file size limit reached)"
        return outcome.exit_code, output
