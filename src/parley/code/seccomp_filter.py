"""The seccomp filter of the bubblewrap sandbox: system calls sandboxed code has no use for.

Built with libseccomp (through its Python bindings: Debian's ``python3-seccomp`` or the
``pyseccomp`` package, a ctypes binding installed with parley on Linux) into a BPF program that
``bwrap --seccomp FD`` loads just before the code starts. Everything not listed is allowed; a
listed call fails with EPERM (``clone3`` with ENOSYS, so that C libraries fall back to ``clone``,
whose flags the filter can see; ``fallocate`` with EOPNOTSUPP; ``socket`` of a family other than
local, IPv4, IPv6 and route netlink with EAFNOSUPPORT). Calls of another architecture's ABI (32-bit ``int 0x80`` on
x86-64) kill the process: libseccomp's default for a foreign architecture.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import stat

from parley.code.base import ExecutorSetupError

# Kernel attack surface and host-changing calls: namespaces and mounts (escape the sandbox's view),
# tracing other processes, keyrings, BPF, perf, userfaultfd (a race amplifier for kernel exploits),
# io_uring (calls the filter cannot see), modules, kexec, clock, swap, reboot.
BLOCKED_SYSCALLS = (
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "syslog", "quotactl", "lookup_dcookie",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "iopl", "ioperm", "vhangup", "uselib", "nfsservctl",
)

# clone() with any of these makes a namespace.
_CLONE_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C  # push keystrokes into a terminal

# Socket families the code may use: local sockets, and IP (the network namespace has only its own
# loopback). Every other family (vsock reaches the hypervisor, whatever the network namespace;
# AF_PACKET, Bluetooth, CAN, ... are kernel attack surface) fails with EAFNOSUPPORT.
_ALLOWED_SOCKET_FAMILIES = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK)
_NETLINK_ROUTE = 0  # the one netlink protocol glibc uses (getaddrinfo's address check, if_nameindex)
# Families are below AF_MAX (46 in Linux 6.x; the kernel answers EAFNOSUPPORT past it itself).
_FAMILY_LIMIT = 64
# O_TMPFILE's own bit (O_TMPFILE is it plus O_DIRECTORY): a nameless file, linked into place later.
_O_TMPFILE_BIT = 0o20000000

# Set-user/group-ID bits: files in work_dir belong to the host user running parley (root, when it
# runs as root), so a set-ID program written there would run as that user on the host.
_SETID_BITS = (stat.S_ISUID, stat.S_ISGID)


def _bindings():
    try:
        import seccomp  # Debian/Ubuntu: python3-seccomp (libseccomp's own bindings)
    except ImportError:
        try:
            import pyseccomp as seccomp  # a ctypes binding to the same libseccomp, from PyPI
        except ImportError:
            raise ExecutorSetupError(
                "the sandbox's seccomp filter needs libseccomp's Python bindings, which are missing. "
                "Fix: pip install pyseccomp (installed with parley on Linux) or apt-get install python3-seccomp."
            ) from None
    return seccomp


@functools.cache
def seccomp_program() -> bytes:
    """The filter as a BPF program for ``bwrap --seccomp`` (built once per process)."""
    return build_program()


def build_program() -> bytes:
    """The filter built afresh (kept apart from the cache, so tests and mutation runs see each build)."""
    sc = _bindings()
    try:
        rules = sc.SyscallFilter(defaction=sc.ALLOW)
        eperm = sc.ERRNO(errno.EPERM)
        for name in BLOCKED_SYSCALLS:
            try:
                rules.add_rule(eperm, name)
            except (ValueError, RuntimeError, OSError):
                pass  # a call this architecture does not have
        for flag in _CLONE_NAMESPACE_FLAGS:
            rules.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        for request in (_TIOCSTI, _TIOCLINUX):
            rules.add_rule(eperm, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
        # fallocate reserves blocks without writing them (with FALLOC_FL_KEEP_SIZE, in a file of size 0
        # that no file-size limit sees): the whole disk in one call. glibc's posix_fallocate falls back
        # to writing, which the host's disk watch and the file-size limit see.
        rules.add_rule(sc.ERRNO(errno.EOPNOTSUPP), "fallocate")
        eafnosupport = sc.ERRNO(errno.EAFNOSUPPORT)
        for family in range(_FAMILY_LIMIT):
            if family not in _ALLOWED_SOCKET_FAMILIES:
                for name in ("socket", "socketpair"):
                    rules.add_rule(eafnosupport, name, sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, family))
        for name in ("socket", "socketpair"):
            rules.add_rule(sc.ERRNO(errno.EPROTONOSUPPORT), name,
                           sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, socket.AF_NETLINK), sc.Arg(2, sc.NE, _NETLINK_ROUTE))
        for bit in _SETID_BITS:
            rules.add_rule(eperm, "chmod", sc.Arg(1, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "fchmod", sc.Arg(1, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "fchmodat", sc.Arg(2, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "creat", sc.Arg(1, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "mknod", sc.Arg(1, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "mknodat", sc.Arg(2, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "open", sc.Arg(1, sc.MASKED_EQ, os.O_CREAT, os.O_CREAT), sc.Arg(2, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "openat", sc.Arg(2, sc.MASKED_EQ, os.O_CREAT, os.O_CREAT), sc.Arg(3, sc.MASKED_EQ, bit, bit))
            # O_TMPFILE creates with the mode too (linkat gives the file a name afterwards).
            tmpfile = _O_TMPFILE_BIT
            rules.add_rule(eperm, "open", sc.Arg(1, sc.MASKED_EQ, tmpfile, tmpfile), sc.Arg(2, sc.MASKED_EQ, bit, bit))
            rules.add_rule(eperm, "openat", sc.Arg(2, sc.MASKED_EQ, tmpfile, tmpfile), sc.Arg(3, sc.MASKED_EQ, bit, bit))
        # openat2 and fchmodat2 take their mode where a filter cannot look: make libc fall back.
        for name in ("openat2", "fchmodat2"):
            try:
                rules.add_rule(sc.ERRNO(errno.ENOSYS), name)
            except (ValueError, RuntimeError, OSError):
                pass
        with os.fdopen(os.memfd_create("parley-seccomp", os.MFD_CLOEXEC), "w+b") as out:
            rules.export_bpf(out)
            out.seek(0)
            program = out.read()
    except ExecutorSetupError:
        raise
    except Exception as exc:  # libseccomp missing or too old: say so, never run without the filter
        raise ExecutorSetupError(
            f"the sandbox's seccomp filter cannot be built ({type(exc).__name__}: {exc}). "
            "Fix: install libseccomp (apt-get install libseccomp2) and its Python bindings (pip install pyseccomp)."
        ) from None
    return program
