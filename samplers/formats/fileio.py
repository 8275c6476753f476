"""Atomic, private file writes: every file flametop writes goes through `atomic_write`.

The data lands in a temporary file in the destination's directory (mode 0600), is fsynced
and then renamed into place, so a reader never sees half a file and a crash leaves at most
a stray `.tmp` file. An existing file is never replaced unless the caller says so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from samplers.errors import OutputError


def _explain(exc: OSError, path: Path) -> OutputError:
    directory = path.parent
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(
            f"cannot write {path}: no space left on the device; free some space or choose another directory"
        )
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            f"cannot write {path}: no permission to write in {directory}; choose a writable directory"
        )
    if code == errno.ENOENT:
        return OutputError(
            f"cannot write {path}: directory {directory} does not exist; create it or choose another path"
        )
    if code in (errno.ENOTDIR,):
        return OutputError(
            f"cannot write {path}: {directory} is not a directory; choose another path"
        )
    if code == errno.EISDIR:
        return OutputError(f"cannot write {path}: it is a directory; give a file name")
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {reason}; choose another path")


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every filesystem allows opening a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes, overwrite: bool = False) -> Path:
    """Write `data` to `path` atomically with mode 0600 and return the path.

    Raises OutputError when the file exists (and `overwrite` is False), when the directory
    is missing or not writable, or when the disk is full.
    """
    target = Path(path)
    directory = target.parent
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory; give a file name")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise OutputError(f"{target} exists; pass --force or choose another name")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _explain(exc, target) from None
    tmp = Path(tmp_name)
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, target)
        else:
            _link_without_replacing(tmp, target)
    except FileExistsError:
        raise OutputError(f"{target} exists; pass --force or choose another name") from None
    except OSError as exc:
        raise _explain(exc, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(directory)
    return target


def _link_without_replacing(tmp: Path, target: Path) -> None:
    """Put `tmp` at `target`, failing with FileExistsError if something got there first."""
    try:
        os.link(tmp, target)  # atomic and never replaces: no race with another writer
    except FileExistsError:
        raise
    except OSError:
        # Filesystems without hard links: check-then-rename is the best left.
        if target.exists() or target.is_symlink():
            raise FileExistsError(str(target)) from None
        os.replace(tmp, target)
