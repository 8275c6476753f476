"""`flametop top` for real (tmux, real py-spy) when the target dies under it: killed with
SIGKILL while attached, or a started command that crashes. The banner says so, what was
sampled stays on screen, and quitting gives exit code 1 with one line saying why."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support_targets import target_path
from test_top_e2e import Pane, pane, start, top_row, wait_rc  # noqa: F401 - fixture

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


def test_a_started_command_that_crashes_is_reported_on_exit(
    pane: tuple[Pane, Path],  # noqa: F811
) -> None:
    p, tmp_path = pane
    code = (
        "import os, signal, threading, runpy, sys\n"
        "threading.Timer(3, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\n"
        f"runpy.run_path({str(target_path('cpu_75_25'))!r}, run_name='__main__')\n"
    )
    rc_file = start(
        p, tmp_path, ["top", "--save-dir", str(tmp_path), "--", sys.executable, "-c", code]
    )
    p.wait_for(lambda s: "TARGET EXITED" in s, timeout=20)
    p.keys("q")
    assert wait_rc(rc_file) == 1
    ended = p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
    assert "flametop: the command was killed by SIGKILL" in ended
