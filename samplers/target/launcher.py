"""Starting and stopping the command of `top -- CMD` and `record -- CMD`: one launcher.

The command runs in a session of its own (a Ctrl-C or hang-up reaches flametop, which
then stops the whole group in order), with its output in a log file (it must not draw
over the screen or the summary), with flametop named as an allowed tracer (Yama
ptrace_scope=1 lets only ancestors or named tracers attach), and — when flametop was
started through sudo — as the user who ran sudo, not as root.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from samplers.errors import TargetNotFoundError, UsageError

PR_SET_PTRACER = 0x59616D61  # prctl option: who may ptrace us under Yama (linux/prctl.h)
GRACE_S = 2.0  # each stopping signal gets this long before the next, harder one


@dataclass(frozen=True, slots=True)
class RunAs:
    """The user and group the command runs as (None: flametop's own)."""

    uid: int | None = None
    gid: int | None = None
    home: str | None = None
    name: str | None = None


def invoking_user(environ: dict[str, str] | None = None, euid: int | None = None) -> RunAs:
    """The user behind sudo, when flametop runs as root through it (SUDO_UID/SUDO_GID)."""
    env = os.environ if environ is None else environ
    if (os.geteuid() if euid is None else euid) != 0:
        return RunAs()
    try:
        uid, gid = int(env["SUDO_UID"]), int(env["SUDO_GID"])
    except (KeyError, ValueError):
        return RunAs()
    if uid == 0:
        return RunAs()
    try:
        entry = pwd.getpwuid(uid)
        return RunAs(uid, gid, entry.pw_dir, entry.pw_name)
    except KeyError:
        return RunAs(uid, gid)


def allow_tracer(tracer: int, prctl: Callable[..., int] | None = None) -> bool:
    """Name `tracer` (and its descendants) as allowed to ptrace this process. True when
    the kernel took it; without Yama the call fails harmlessly."""
    try:
        call = prctl or ctypes.CDLL(None, use_errno=True).prctl
        return call(PR_SET_PTRACER, tracer, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


def launch(cmd: Sequence[str], run_as: RunAs | None = None) -> Launched:
    """Start `cmd`; TargetNotFoundError with the fix when it cannot be started."""
    if not cmd:
        raise UsageError("give a command to start after --, for example -- python app.py")
    user = invoking_user() if run_as is None else run_as
    env = dict(os.environ)
    if user.uid is not None:
        env.update({k: v for k, v in (("HOME", user.home), ("USER", user.name)) if v})
        env.update({"LOGNAME": user.name} if user.name else {})
    tracer = os.getpid()
    fd, log_name = tempfile.mkstemp(prefix="flametop-target-", suffix=".log")
    if user.uid is not None:
        os.fchown(fd, user.uid, user.gid if user.gid is not None else -1)
    try:
        # preexec_fn: flametop starts the command before it runs any other thread
        proc = subprocess.Popen(  # noqa: S603 - the user's own command, as an argument list
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,
            env=env,
            user=user.uid,
            group=user.gid,
            extra_groups=[] if user.uid is not None else None,
            preexec_fn=lambda: allow_tracer(tracer),
        )
    except FileNotFoundError:
        _drop(fd, log_name)
        raise TargetNotFoundError(
            f"command not found: {cmd[0]}; check its spelling or give its full path"
        ) from None
    except PermissionError:
        _drop(fd, log_name)
        raise TargetNotFoundError(f"cannot run {cmd[0]}: not executable; check it") from None
    except OSError as exc:
        _drop(fd, log_name)
        raise TargetNotFoundError(
            f"cannot start {shlex.join(cmd)}: {exc.strerror or exc}; check the command and PATH"
        ) from None
    os.close(fd)
    return Launched(proc, Path(log_name))


def _drop(fd: int, name: str) -> None:
    os.close(fd)
    Path(name).unlink(missing_ok=True)


def stop(launched: Launched, grace: float = GRACE_S) -> None:
    """Stop the command's whole process group in order: SIGINT (a Python program and its
    pool workers end as on Ctrl-C), then SIGTERM, then SIGKILL, `grace` s apart."""
    proc = launched.proc
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None and not _group_alive(proc.pid):
            return
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            if proc.poll() is None:
                proc.send_signal(sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not _group_alive(proc.pid):
                return
            time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except OSError:
        return False
    return True
