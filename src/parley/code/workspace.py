"""Host-side file operations inside a ``work_dir`` that model-written code may have tampered with.

Sandboxed code can leave anything in ``work_dir``: a symlink under the name the next block will
be saved as (pointing at a ``.pth`` file in site-packages, say), a FIFO, a socket, a directory, a
hard link to a file outside, a symlinked parent directory. So the host never resolves a path in
``work_dir`` by name. It starts from a descriptor of ``work_dir`` and opens each component with
``O_NOFOLLOW | O_DIRECTORY``; it writes a file under a fresh random name created with
``O_CREAT | O_EXCL | O_NOFOLLOW`` and renames that over the target. ``rename`` replaces whatever
entry is there (symlink, FIFO, socket, device node, hard link) without opening or following it, so
nothing outside ``work_dir`` is ever written and nothing can block the host. A directory at the
target is refused with a clear message.
"""

from __future__ import annotations

import errno
import os
import posixpath
import secrets
import stat
from pathlib import Path, PurePosixPath

# Linux's NAME_MAX; a longer name is an attack or a mistake, never a file worth saving.
MAX_NAME_BYTES = 255
# A bound on the whole relative path (PATH_MAX is 4096; deep trees of code files are not a thing).
MAX_PATH_BYTES = 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_TEMP_PREFIX = ".parley-tmp-"


class UnsafePathError(ValueError):
    """A file name or a path in work_dir the host refuses to use; the message says why."""


def checked_relative_path(work_dir: Path, name: str) -> PurePosixPath:
    """``name`` (from a ``# filename:`` line) as a clean path relative to ``work_dir``.

    Rejects what cannot name a file inside ``work_dir``: NUL and other control characters, names
    that are not valid UTF-8, ``..`` components, absolute paths outside ``work_dir`` (an absolute
    path inside it is made relative), a trailing slash, over-long names.
    """
    if not isinstance(name, str) or not name:
        raise UnsafePathError("Filename is empty")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise UnsafePathError(f"Filename {name!r} contains a control character")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafePathError(f"Filename {name!r} is not valid UTF-8") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise UnsafePathError(f"Filename is too long ({len(encoded)} bytes; at most {MAX_PATH_BYTES})")
    if name.endswith("/"):
        raise UnsafePathError(f"Filename {name!r} names a directory, not a file")
    if name.startswith("/"):
        root = str(work_dir).rstrip("/") + "/"
        if not posixpath.normpath(name).startswith(root):
            raise UnsafePathError(f"Filename is not in the workspace: {name!r} is outside {work_dir}")
        name = posixpath.normpath(name)[len(root):]
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"Filename {name!r} names no file")
    if ".." in parts:
        raise UnsafePathError(f"Filename is not in the workspace: {name!r} uses '..'")
    for part in parts:
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise UnsafePathError(f"Filename component is too long ({len(part.encode())} bytes; at most {MAX_NAME_BYTES})")
        if part.startswith(_TEMP_PREFIX):
            raise UnsafePathError(f"Filename {name!r} uses a name reserved for parley's temporary files")
    return PurePosixPath(*parts)


def open_work_dir(work_dir: Path) -> int:
    """A descriptor of ``work_dir`` (its path resolved now: links in it are the caller's choice), held by
    an executor for its life, so that code that later swaps the path for a link (an outer
    executor's code, when one work_dir lies inside another) cannot redirect the host's writes."""
    return os.open(os.path.realpath(work_dir), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _open_dir_chain(work_dir: Path, parents: tuple[str, ...], create: bool, root_fd: int | None = None) -> int:
    """A descriptor of ``work_dir/parents`` (of ``root_fd``'s directory when given), reached without
    following any link; the caller closes it."""
    if root_fd is not None:
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=root_fd)
    else:
        fd = os.open(work_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    walked = PurePosixPath()
    try:
        for part in parents:
            walked /= part
            try:
                try:
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass  # made meanwhile; opened (or refused) below like any other
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePathError(
                        f"{walked} in the workspace is a symlink or not a directory; refusing to use it"
                    ) from None
                raise
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_file(work_dir: Path, relative: PurePosixPath | str, data: bytes, *, root_fd: int | None = None) -> Path:
    """Save ``data`` as ``work_dir/relative``, never writing through what is already there.

    Parent directories are created as needed (never followed when they are links). Whatever
    non-directory entry holds the name is replaced by the new file; a directory there is refused
    with :class:`UnsafePathError`, and so is a path that keeps changing while it is saved (another
    process renaming or removing its directories). ``root_fd``: a descriptor of ``work_dir``
    (:func:`open_work_dir`) to start from instead of its path.
    """
    relative = PurePosixPath(relative)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise UnsafePathError(f"{str(relative)!r} is not a path inside the workspace")
    for _ in range(3):
        try:
            _write_once(work_dir, relative, data, root_fd)
            return work_dir / relative
        except FileNotFoundError:
            continue  # a directory on the way was renamed or removed meanwhile: walk again
    raise UnsafePathError(f"cannot save {relative}: the workspace keeps changing under it")


def _write_once(work_dir: Path, relative: PurePosixPath, data: bytes, root_fd: int | None) -> None:
    *parents, name = relative.parts
    dir_fd = _open_dir_chain(work_dir, tuple(parents), create=True, root_fd=root_fd)
    try:
        temp = _TEMP_PREFIX + secrets.token_hex(8)
        fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb", closefd=True) as file:
                file.write(data)
        except BaseException:
            _unlink_quietly(temp, dir_fd)
            raise
        try:
            existing = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            _unlink_quietly(temp, dir_fd)
            raise UnsafePathError(f"cannot save {relative}: a directory of that name is in the workspace")
        try:
            os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as exc:
            _unlink_quietly(temp, dir_fd)
            if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
                raise UnsafePathError(f"cannot save {relative}: a directory of that name is in the workspace") from None
            raise
    finally:
        os.close(dir_fd)


def require_regular_file(work_dir: Path, relative: PurePosixPath | str, *, root_fd: int | None = None) -> None:
    """Raise :class:`UnsafePathError` unless ``work_dir/relative`` is a regular file reached through no link
    (a planted FIFO would block whoever opens it; a link would run a file from outside)."""
    relative = PurePosixPath(relative)
    *parents, name = relative.parts
    try:
        dir_fd = _open_dir_chain(work_dir, tuple(parents), create=False, root_fd=root_fd)
    except FileNotFoundError:
        raise UnsafePathError(f"{relative} does not exist in the workspace") from None
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise UnsafePathError(f"{relative} does not exist in the workspace") from None
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(
            f"{relative} in the workspace is not a regular file (a link, FIFO, directory, ...); refusing to run it"
        )


def _unlink_quietly(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass
