"""`flametop top` for real (tmux, real py-spy) when the target dies under it: killed with
SIGKILL while attached, or a started command that crashes. The banner says so, what was
sampled stays on screen, and quitting gives exit code 1 with one line saying why."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from support_targets import REPO, target_path
from support_tmux import Pane, start, tmux, top_row, wait_rc

pytestmark = [pytest.mark.pyspy, pytest.mark.slow]


def test_an_attached_target_killed_midway_keeps_the_screen_and_exits_1(
    pane: tuple[Pane, Path],  # noqa: F811
) -> None:
    p, tmp_path = pane
    target = subprocess.Popen([sys.executable, str(target_path("cpu_75_25"))])  # noqa: S603
    try:
        rc_file = start(p, tmp_path, ["top", "--save-dir", str(tmp_path), "--pid", str(target.pid)])
        p.wait_for(lambda s: "hot_three_quarters" in top_row(s), timeout=20)
        # WHEN the target is killed with SIGKILL
        os.kill(target.pid, signal.SIGKILL)
        target.wait()
        # THEN within seconds the header says so and the table still shows what was seen
        screen = p.wait_for(lambda s: "TARGET EXITED" in s, timeout=10)
        assert "hot_three_quarters" in top_row(screen)
        # AND quitting exits 1 with one line naming the pid
        p.keys("q")
        assert wait_rc(rc_file) == 1
        ended = p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
        assert f"flametop: pid {target.pid} exited during the session" in ended
        assert "Traceback" not in ended
    finally:
        target.kill()
        target.wait()


@pytest.mark.parametrize("crash", [True, False], ids=["killed", "finished"])
def test_a_started_command_that_crashes_is_reported_on_exit(
    pane: tuple[Pane, Path],  # noqa: F811
    crash: bool,
) -> None:
    p, tmp_path = pane
    end = "os.kill(os.getpid(), signal.SIGKILL)" if crash else "os._exit(0)"
    code = (
        "import os, signal, threading, runpy, sys\n"
        f"threading.Timer(3, lambda: {end}).start()\n"
        f"runpy.run_path({str(target_path('cpu_75_25'))!r}, run_name='__main__')\n"
    )
    rc_file = start(
        p, tmp_path, ["top", "--save-dir", str(tmp_path), "--", sys.executable, "-c", code]
    )
    p.wait_for(lambda s: "TARGET EXITED" in s, timeout=20)
    p.keys("q")
    # THEN a command killed midway is a failed run (exit 1, one line); one that
    # finished by itself is not (exit 0)
    assert wait_rc(rc_file) == (1 if crash else 0)
    ended = p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
    assert ("flametop: the command was killed by SIGKILL" in ended) == crash


@pytest.mark.parametrize(("delay", "wrapped"), [(0.3, False), (2.0, False), (2.0, True)])
def test_ctrl_c_at_start_up_leaves_no_target_running(
    pane: tuple[Pane, Path],  # noqa: F811
    delay: float,
    wrapped: bool,
) -> None:
    p, tmp_path = pane
    marker = f"flametop-orphan-check-{uuid.uuid4().hex}"
    cmd = [sys.executable, str(target_path("cpu_75_25")), "60", marker]
    if wrapped:  # a wrapper that starts Python late: flametop is still looking for it
        cmd = ["bash", "-c", f"sleep 2.5; exec {shlex.join(cmd)}", marker]
    rc_file = tmp_path / "rc"
    flametop = shlex.join([sys.executable, "-m", "tui.cli", "top", "--", *cmd])
    # the shell keeps a handler for SIGINT (not SIG_IGN, which flametop would inherit) so
    # it survives the Ctrl-C and reports flametop's exit code
    script = (
        f"trap : INT; cd {shlex.quote(str(REPO))} && {flametop}; "
        f"echo $? > {shlex.quote(str(rc_file))}; echo FLAMETOP-ENDED; exec sleep 60"
    )
    tmux("new-session", "-d", "-s", p.name, "-x", "120", "-y", "40", "sh", "-c", script)
    # WHEN Ctrl-C comes while flametop is still starting (or has just drawn)
    time.sleep(delay)
    p.keys("C-c")
    # THEN flametop ends without a traceback, the terminal is given back, and the
    # command it started is not left running
    assert wait_rc(rc_file, timeout=20) in (0, 130)
    screen = p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
    assert "Traceback" not in screen
    assert p.flag("alternate_on") == "0"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running(marker):
        time.sleep(0.1)
    assert not _running(marker)


def _running(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if marker in (proc.info["cmdline"] or []):
            found.append(proc)
    return found
