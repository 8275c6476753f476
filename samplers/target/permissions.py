"""Why the kernel refused to let py-spy read a process, and the exact fix for this host.

py-spy only says "Permission denied"; the cause is one of a few things flametop can look
at itself: who owns the target, the Yama LSM's ptrace_scope, and whether flametop holds
CAP_SYS_PTRACE (root in a container usually does not). Each message is one line that
names the cause, the fix, and what still works without it.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from samplers.errors import PermissionDeniedError

YAMA_PATH = Path("/proc/sys/kernel/yama/ptrace_scope")
CAP_SYS_PTRACE = 19  # bit in /proc/PID/status CapEff (linux/capability.h)
STARTED = (
    "`flametop top -- CMD` or `flametop record -- CMD` (flametop starting the program "
    "itself) still works"
)


@dataclass(frozen=True, slots=True)
class AccessFacts:
    """What decides whether we may read the target."""

    euid: int
    target_uid: int | None  # None when the target's owner cannot be read
    yama_scope: int | None  # None without the Yama LSM
    cap_sys_ptrace: bool  # flametop's effective capabilities include CAP_SYS_PTRACE


def _user(uid: int | None) -> str:
    if uid is None:
        return "another user"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _status_field(pid: int | str, field: str) -> str | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def gather(pid: int) -> AccessFacts:
    """The facts for `pid` on this host, read from /proc."""
    uid_field = _status_field(pid, "Uid")
    target_uid = int(uid_field.split()[1]) if uid_field else None  # effective uid
    try:
        yama: int | None = int(YAMA_PATH.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        yama = None
    caps = _status_field("self", "CapEff")
    has_cap = bool(int(caps, 16) >> CAP_SYS_PTRACE & 1) if caps else os.geteuid() == 0
    return AccessFacts(os.geteuid(), target_uid, yama, has_cap)


def permission_error(pid: int, facts: AccessFacts | None = None) -> PermissionDeniedError:
    """The one-line error for a refused attach to `pid`."""
    f = facts if facts is not None else gather(pid)
    head = f"no permission to read pid {pid}"
    if f.yama_scope is not None and f.yama_scope >= 3:
        return PermissionDeniedError(
            f"{head}: kernel.yama.ptrace_scope is 3, which forbids every attach until the "
            "next reboot (it cannot be lowered); profile on a host with a lower setting"
        )
    if f.euid == 0 and not f.cap_sys_ptrace:
        return PermissionDeniedError(
            f"{head}: flametop runs as root but without CAP_SYS_PTRACE, as in a container; "
            "add it (`docker run --cap-add SYS_PTRACE …`, or in Kubernetes "
            '`securityContext.capabilities.add: ["SYS_PTRACE"]`); ' + STARTED
        )
    if not f.cap_sys_ptrace and f.yama_scope == 2:
        return PermissionDeniedError(
            f"{head}: kernel.yama.ptrace_scope is 2 (only root may attach); run flametop with sudo"
        )
    if not f.cap_sys_ptrace and f.target_uid is not None and f.target_uid != f.euid:
        return PermissionDeniedError(
            f"{head}: it belongs to {_user(f.target_uid)} and flametop runs as "
            f"{_user(f.euid)}; run flametop with sudo (or as {_user(f.target_uid)}); " + STARTED
        )
    if not f.cap_sys_ptrace and f.yama_scope == 1:
        return PermissionDeniedError(
            f"{head}: kernel.yama.ptrace_scope is 1 (a process may only be read by its "
            "parent); run flametop with sudo, or `sudo sysctl kernel.yama.ptrace_scope=0` "
            "(until reboot; it lets any of your processes read the memory of the others, "
            "secrets included); " + STARTED
        )
    return PermissionDeniedError(
        f"{head}: run flametop as root (sudo), or allow ptrace with "
        "`sysctl kernel.yama.ptrace_scope=0` (lets any process read its siblings' memory), "
        "or in a container add `--cap-add SYS_PTRACE` (Kubernetes: "
        '`securityContext.capabilities.add: ["SYS_PTRACE"]`) and, with a seccomp profile, '
        "allow ptrace; " + STARTED
    )
