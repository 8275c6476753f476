"""The one launcher behind `top -- CMD` and `record -- CMD`."""

from __future__ import annotations

import os
import pwd
import sys
import time

import psutil
import pytest

from samplers.errors import TargetNotFoundError
from samplers.target import launcher
from samplers.target.launcher import PR_SET_PTRACER, RunAs, allow_tracer, invoking_user, launch
from tests.support_targets import target_path


def test_the_tracer_is_declared_with_prctl() -> None:
    # GIVEN a stand-in for libc's prctl (the kernel here may have no Yama to show it)
    calls: list[tuple[int, ...]] = []

    def prctl(*args: int) -> int:
        calls.append(args)
        return 0

    # WHEN the started command names its tracer THEN it is PR_SET_PTRACER with that pid
    assert allow_tracer(4242, prctl)
    assert calls == [(PR_SET_PTRACER, 4242, 0, 0, 0)]


def test_the_command_really_makes_the_call_before_exec(tmp_path: object) -> None:
    # GIVEN Yama where the kernel has it: the started command may be traced by flametop
    yama = "/proc/sys/kernel/yama/ptrace_scope"
    started = launch([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        status = psutil.Process(started.pid)
        assert status.ppid() == os.getpid()
        assert os.getsid(started.pid) == started.pid  # a session of its own
        if os.path.exists(yama):  # pragma: no cover - this host has none
            assert open(yama).read().strip() in "0123"
    finally:
        launcher.stop(started, grace=0.5)
    assert started.proc.poll() is not None


def test_under_sudo_the_command_runs_as_the_invoking_user() -> None:
    nobody = pwd.getpwnam("nobody")
    env = {"SUDO_UID": str(nobody.pw_uid), "SUDO_GID": str(nobody.pw_gid)}
    # GIVEN flametop running as root through sudo
    user = invoking_user(env, euid=0)
    assert (user.uid, user.gid, user.name) == (nobody.pw_uid, nobody.pw_gid, "nobody")
    # AND not through sudo, or as a normal user: the command keeps flametop's user
    assert invoking_user({}, euid=0) == RunAs()
    assert invoking_user(env, euid=1000) == RunAs()
    if os.geteuid() != 0:  # pragma: no cover - tests run as root here
        pytest.skip("switching users needs root")
    # WHEN the command is started THEN it runs as that user, with its output in a log
    # (/usr/bin/python3: the venv may sit where nobody cannot enter)
    started = launch(["/usr/bin/python3", "-c", "import os; print(os.getuid(), os.getgid())"], user)
    started.proc.wait(10)
    assert started.log.read_text().split() == [str(nobody.pw_uid), str(nobody.pw_gid)]
    started.log.unlink()


def test_stopping_a_pool_job_ends_every_worker_without_tracebacks_on_our_terminal() -> None:
    # GIVEN a multiprocessing.Pool job with four workers
    started = launch([sys.executable, str(target_path("pool_job"))])
    deadline = time.monotonic() + 10
    proc = psutil.Process(started.pid)
    while len(proc.children()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = proc.children(recursive=True)
    assert len(workers) >= 4
    # WHEN it is stopped (SIGINT to the group, then SIGTERM, then SIGKILL)
    launcher.stop(started, grace=2.0)
    # THEN the job and all its workers are gone, and what they printed is in the log
    assert started.proc.poll() is not None
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    assert started.log.exists()
    started.log.unlink()


def test_a_missing_command_is_one_clear_error() -> None:
    with pytest.raises(TargetNotFoundError, match="command not found: no-such-command-xyz"):
        launch(["no-such-command-xyz"])
