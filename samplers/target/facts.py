"""Provenance for a recording: who sampled what, where, when, with which Python.

Every probe here is cheap and quiet: a probe that fails leaves its field empty rather
than failing the recording."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from samplers import __version__
from samplers.model import Metadata
from samplers.target.elf import interpreter_build_id
from samplers.target.system import cmdline_of, cwd_of

_LIBPYTHON_RE = re.compile(r"libpython(\d+\.\d+)")
_VERSION_RE = re.compile(r"Python (\d+\.\d+\.\d+\S*)")


def utc_iso(t: float) -> str:
    """Seconds since the epoch as ISO 8601 in UTC, to the second: 2026-11-25T12:00:00Z."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_quietly(argv: list[str], timeout: float = 3.0) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (done.stdout + done.stderr).strip() if done.returncode == 0 else ""


def python_version_of(pid: int) -> str:
    """The target's Python version: `<its executable> --version` (through /proc, so a
    deleted or replaced binary still answers), else the libpython it maps (X.Y only)."""
    exe = f"/proc/{pid}/exe"
    match = _VERSION_RE.search(_run_quietly([exe, "--version"]))
    if match:
        return match.group(1)
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                found = _LIBPYTHON_RE.search(line)
                if found:
                    return found.group(1)
    except OSError:
        pass
    return ""


def git_commit_of(directory: Path | None) -> str:
    """HEAD of the git repository holding `directory`, or "" when there is none."""
    if directory is None:
        return ""
    out = _run_quietly(["git", "-C", str(directory), "rev-parse", "HEAD"])
    return out if re.fullmatch(r"[0-9a-f]{40,64}", out) else ""


def git_branch_of(directory: Path | None) -> str:
    """The branch checked out in the repository holding `directory`; "" when HEAD is
    detached (as in many CI checkouts) or there is no repository."""
    if directory is None:
        return ""
    return _run_quietly(["git", "-C", str(directory), "symbolic-ref", "--short", "-q", "HEAD"])


def kernel_release() -> str:
    """`uname -r`: the kernel that ran the target and the sampler (one host)."""
    try:
        return os.uname().release
    except (AttributeError, OSError):
        return ""


class TargetFacts:
    """What metadata needs from the target, read once at the start of a recording while
    the target surely runs (it may be gone when the recording ends)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cmdline = cmdline_of(pid)
        self.python_version = python_version_of(pid)
        cwd = cwd_of(pid)
        self.git_commit = git_commit_of(cwd)
        self.git_branch = git_branch_of(cwd)
        self.build_id = interpreter_build_id(pid)
        self.kernel_release = kernel_release()

    def metadata(
        self,
        *,
        sampler: str,
        rate: float,
        mode: str,
        start_time: float,
        duration_s: float,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Metadata:
        return Metadata(
            flametop_version=__version__,
            sampler=sampler,
            rate=rate,
            mode=mode,
            start_time=utc_iso(start_time),
            duration_s=round(duration_s, 3),
            host=socket.gethostname(),
            pid=self.pid,
            cmdline=self.cmdline,
            python_version=self.python_version,
            git_commit=self.git_commit,
            git_branch=self.git_branch,
            kernel_release=self.kernel_release,
            build_id=self.build_id,
            extra=extra,
        )
