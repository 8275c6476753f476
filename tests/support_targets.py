"""Start a target program from tests/targets with this interpreter and hand its pid to a
test; the target (and anything it started) is killed afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

TARGETS = Path(__file__).parent / "targets"
REPO = Path(__file__).parent.parent


def target_path(name: str) -> Path:
    return TARGETS / (name if name.endswith(".py") else f"{name}.py")


def _wait_until_running(proc: subprocess.Popen[bytes], settle: float) -> None:
    """Give the interpreter time to start and import, so py-spy finds a Python process
    that is already in its workload."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"target exited early with code {proc.returncode}")
        time.sleep(0.02)


@contextmanager
def running_target(name: str, *args: str, settle: float = 0.4) -> Iterator[int]:
    """`with running_target("cpu_75_25") as pid:` — the target runs with the current
    interpreter in its own session; on exit the whole group is killed."""
    proc = subprocess.Popen(  # noqa: S603 - fixed argument list
        [sys.executable, str(target_path(name)), *args],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_running(proc, settle)
        yield proc.pid
    finally:
        kill_tree(proc.pid)
        proc.wait(5)


def kill_tree(pid: int) -> None:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        children = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass


def flametop_cmd(*args: str) -> list[str]:
    """The flametop CLI run with this interpreter (as installed in the venv)."""
    return [sys.executable, "-m", "tui.cli", *args]


def run_flametop(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argument list
        flametop_cmd(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
    )
