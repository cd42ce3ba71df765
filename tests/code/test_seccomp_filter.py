"""The sandbox's seccomp filter, rule by rule, loaded by the kernel itself.

A child process (unprivileged: it drops to ``nobody`` first when the tests run as root) loads the
BPF program that ``bwrap --seccomp`` would load, then makes raw system calls whose arguments are
invalid on purpose, so each answer tells the filter's refusal from the kernel's: a blocked call
answers with the filter's errno, the same call let through fails with another (EBADF, ENOENT,
EINVAL, ...) or succeeds harmlessly. Nothing here needs bubblewrap, and no call changes the host,
filtered or not (the child is unprivileged and every path is missing).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import socket
import stat
import subprocess
import sys

import pytest

from parley.code import seccomp_filter
from parley.code.base import ExecutorSetupError
from parley.code.seccomp_filter import BLOCKED_SYSCALLS, build_program

pyseccomp = pytest.importorskip("pyseccomp")

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64" or sys.platform != "linux", reason="system call numbers are x86-64's"
)

MISSING = "/nonexistent-parley-seccomp-test/file"  # every path call fails with ENOENT when let through
AT_FDCWD = -100
CLONE_THREAD = 0x00010000  # without CLONE_SIGHAND: EINVAL from the kernel, before any namespace is made
O_TMPFILE = 0o20200000
NR = {
    "clone": 56, "clone3": 435, "unshare": 272, "setns": 308, "fallocate": 285, "ioctl": 16,
    "socket": 41, "socketpair": 53, "chmod": 90, "fchmod": 91, "fchmodat": 268, "creat": 85,
    "mknod": 133, "mknodat": 259, "open": 2, "openat": 257, "openat2": 437, "fchmodat2": 452,
    "getpid": 39,
}

# The child: drop privileges, load the program (read from stdin), make the calls, print the errnos.
CHILD = r"""
import ctypes, json, os, sys
program = sys.stdin.buffer.read()
if os.geteuid() == 0:
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
assert os.geteuid() != 0 and os.getuid() != 0
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
code = ctypes.create_string_buffer(program, len(program))
fprog = Fprog(len(program) // 8, ctypes.cast(code, ctypes.c_void_p))
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
if (libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0):
    sys.exit("cannot load the filter: errno %d" % ctypes.get_errno())
answers = {}
for label, nr, args in json.loads(sys.argv[1]):
    args = [ctypes.c_char_p(a.encode()) if isinstance(a, str) else ctypes.c_long(a) for a in args]
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(nr), *args)
    answers[label] = ctypes.get_errno() if result == -1 else 0
    if result > 2 and label.startswith(("socket", "open")):
        os.close(result)
print(json.dumps(answers))
"""


def answers(calls: list[tuple[str, int, list]]) -> dict[str, int]:
    """Each call's errno (0: it succeeded) in a child under the filter built now."""
    run = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(calls)], input=build_program(),
        capture_output=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    return json.loads(run.stdout)


def test_every_blocked_name_is_a_system_call_libseccomp_knows():
    # A misspelt name would be skipped in silence (names this architecture lacks are skipped on purpose).
    arch = pyseccomp.system_arch()
    for name in BLOCKED_SYSCALLS:
        pyseccomp.resolve_syscall(arch, name)  # ValueError for a name that is no system call anywhere
    assert len(set(BLOCKED_SYSCALLS)) == len(BLOCKED_SYSCALLS)


def test_blocked_calls_fail_with_eperm_and_others_still_work():
    arch = pyseccomp.system_arch()
    calls = [(name, nr, [-1] * 6) for name in BLOCKED_SYSCALLS if (nr := pyseccomp.resolve_syscall(arch, name)) >= 0]
    calls += [
        ("unshare nothing", NR["unshare"], [0]),  # let through: succeeds
        ("setns bad fd", NR["setns"], [-1, 0]),  # let through: EBADF
        ("getpid", NR["getpid"], []),
    ]
    got = answers(calls)
    assert {name: got[name] for name, _, _ in calls[:-3]} == {name: errno.EPERM for name, _, _ in calls[:-3]}
    assert got["unshare nothing"] == got["setns bad fd"] == errno.EPERM
    assert got["getpid"] == 0


@pytest.mark.parametrize("flag", seccomp_filter._CLONE_NAMESPACE_FLAGS, ids=hex)
def test_clone_with_a_namespace_flag_is_refused(flag):
    got = answers([
        ("namespace", NR["clone"], [flag | CLONE_THREAD, 0, 0, 0, 0]),
        ("no namespace", NR["clone"], [CLONE_THREAD, 0, 0, 0, 0]),  # the kernel's own EINVAL
    ])
    assert got == {"namespace": errno.EPERM, "no namespace": errno.EINVAL}


def test_clone3_says_enosys_so_libc_falls_back_to_clone():
    assert answers([("clone3", NR["clone3"], [0, 0])]) == {"clone3": errno.ENOSYS}


def test_keystroke_ioctls_are_refused_and_others_are_not():
    tiocgwinsz = 0x5413
    got = answers([
        ("TIOCSTI", NR["ioctl"], [-1, seccomp_filter._TIOCSTI, 0]),
        ("TIOCLINUX", NR["ioctl"], [-1, seccomp_filter._TIOCLINUX, 0]),
        ("TIOCSTI in the high bits", NR["ioctl"], [-1, seccomp_filter._TIOCSTI | (1 << 32), 0]),
        ("TIOCGWINSZ", NR["ioctl"], [-1, tiocgwinsz, 0]),
    ])
    # The kernel compares the request as 32 bits (the filter does too); other requests reach the fd.
    assert got == {"TIOCSTI": errno.EPERM, "TIOCLINUX": errno.EPERM, "TIOCSTI in the high bits": errno.EPERM,
                   "TIOCGWINSZ": errno.EBADF}


def test_fallocate_says_not_supported():
    assert answers([("fallocate", NR["fallocate"], [-1, 0, 0, 4096])]) == {"fallocate": errno.EOPNOTSUPP}


def test_socket_families_other_than_local_ip_and_route_netlink_are_refused():
    allowed = {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK}
    calls = []
    for family in range(seccomp_filter._FAMILY_LIMIT):
        kind = socket.SOCK_RAW if family == socket.AF_NETLINK else socket.SOCK_STREAM
        calls.append((f"socket {family}", NR["socket"], [family, kind, 0]))
        calls.append((f"socketpair {family}", NR["socketpair"], [family, kind, 0, 0]))
    got = answers(calls)
    refused = {label for label, value in got.items() if value == errno.EAFNOSUPPORT}
    expected = {f"{call} {family}" for family in range(64) if family not in allowed for call in ("socket", "socketpair")}
    assert refused == expected
    assert got[f"socket {socket.AF_UNIX}"] == got[f"socket {socket.AF_INET}"] == got[f"socket {socket.AF_NETLINK}"] == 0
    assert got[f"socketpair {socket.AF_UNIX}"] == errno.EFAULT  # let through: the kernel finds no result array


def test_netlink_other_than_route_is_refused():
    netlink_generic = 16
    got = answers([
        ("socket route", NR["socket"], [socket.AF_NETLINK, socket.SOCK_RAW, 0]),
        ("socket generic", NR["socket"], [socket.AF_NETLINK, socket.SOCK_RAW, netlink_generic]),
        ("socketpair generic", NR["socketpair"], [socket.AF_NETLINK, socket.SOCK_RAW, netlink_generic, 0]),
        ("socketpair route", NR["socketpair"], [socket.AF_NETLINK, socket.SOCK_RAW, 0, 0]),
    ])
    assert got == {"socket route": 0, "socket generic": errno.EPROTONOSUPPORT,
                   "socketpair generic": errno.EPROTONOSUPPORT, "socketpair route": errno.EFAULT}


def test_a_protocol_is_refused_only_for_netlink():
    got = answers([
        ("tcp", NR["socket"], [socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP]),
        ("udp6", NR["socket"], [socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP]),
        ("tcp pair", NR["socketpair"], [socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, 0]),
    ])
    assert got == {"tcp": 0, "udp6": 0, "tcp pair": errno.EFAULT}  # let through: no result array


@pytest.mark.parametrize("bit", [stat.S_ISUID, stat.S_ISGID], ids=["setuid", "setgid"])
def test_set_id_modes_are_refused_in_every_call_that_sets_a_mode(bit):
    mode = 0o755 | bit
    creating = os.O_CREAT | os.O_WRONLY
    calls = [
        ("chmod", NR["chmod"], [MISSING, mode]),
        ("fchmod", NR["fchmod"], [-1, mode]),
        ("fchmodat", NR["fchmodat"], [AT_FDCWD, MISSING, mode, 0]),
        ("creat", NR["creat"], [MISSING, mode]),
        ("mknod", NR["mknod"], [MISSING, stat.S_IFREG | mode, 0]),
        ("mknodat", NR["mknodat"], [AT_FDCWD, MISSING, stat.S_IFREG | mode, 0]),
        ("open O_CREAT", NR["open"], [MISSING, creating, mode]),
        ("openat O_CREAT", NR["openat"], [AT_FDCWD, MISSING, creating, mode]),
        ("open O_TMPFILE", NR["open"], [MISSING, O_TMPFILE | os.O_WRONLY, mode]),
        ("openat O_TMPFILE", NR["openat"], [AT_FDCWD, MISSING, O_TMPFILE | os.O_WRONLY, mode]),
    ]
    plain = [(f"{label} plain", nr, [a & ~bit if a == mode or a == stat.S_IFREG | mode else a for a in args])
             for label, nr, args in calls]
    # A mode given without O_CREAT/O_TMPFILE is ignored by the kernel, and so by the filter.
    not_creating = [("open read", NR["open"], [MISSING, os.O_RDONLY, mode]),
                    ("openat read", NR["openat"], [AT_FDCWD, MISSING, os.O_RDONLY, mode])]
    got = answers(calls + plain + not_creating)
    assert {label: got[label] for label, _, _ in calls} == {label: errno.EPERM for label, _, _ in calls}
    expected_plain = {label: errno.EBADF if label.startswith("fchmod ") else errno.ENOENT for label, _, _ in plain}
    assert {label: got[label] for label, _, _ in plain} == expected_plain
    assert got["open read"] == got["openat read"] == errno.ENOENT


def test_openat2_and_fchmodat2_say_enosys_so_libc_falls_back():
    got = answers([
        ("openat2", NR["openat2"], [AT_FDCWD, MISSING, 0, 0]),
        ("fchmodat2", NR["fchmodat2"], [AT_FDCWD, MISSING, 0o755, 0]),
    ])
    assert got == {"openat2": errno.ENOSYS, "fchmodat2": errno.ENOSYS}


def test_the_program_is_built_once_and_is_whole_instructions():
    seccomp_filter.seccomp_program.cache_clear()
    first = seccomp_filter.seccomp_program()
    assert seccomp_filter.seccomp_program() is first
    assert first == build_program() and len(first) % 8 == 0 and first


def test_missing_bindings_are_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_bindings(name, *args, **kwargs):
        if name in ("seccomp", "pyseccomp"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_bindings)
    with pytest.raises(ExecutorSetupError) as caught:
        build_program()
    assert str(caught.value) == (
        "the sandbox's seccomp filter needs libseccomp's Python bindings, which are missing. "
        "Fix: pip install pyseccomp (installed with parley on Linux) or apt-get install python3-seccomp."
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_library_that_cannot_build_the_filter_is_a_clear_error(monkeypatch):
    class TooOld:
        ALLOW = pyseccomp.ALLOW

        def SyscallFilter(self, defaction):  # libseccomp's name
            raise RuntimeError("libseccomp 2.3 has no MASKED_EQ here")

    monkeypatch.setattr(seccomp_filter, "_bindings", TooOld)
    with pytest.raises(ExecutorSetupError) as caught:
        build_program()
    assert str(caught.value) == (
        "the sandbox's seccomp filter cannot be built (RuntimeError: libseccomp 2.3 has no MASKED_EQ here). "
        "Fix: install libseccomp (apt-get install libseccomp2) and its Python bindings (pip install pyseccomp)."
    )
    assert caught.value.__suppress_context__
