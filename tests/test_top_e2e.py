"""`flametop top` for real: real py-spy against a real CPU-bound target, in a real
pseudo-terminal (tmux). Reads the screen as a person would, then quits, and checks the
terminal was given back (no alternate screen, no mouse reporting, cursor shown)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from support_targets import running_target, target_path
from support_tmux import Pane, start, top_row, wait_rc

from samplers.formats import read_profile

pytestmark = [
    pytest.mark.pyspy,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed"),
]


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:  # py-spy chunk processes come and go every second
        return []


def flametop_and_target(p: Pane, target: str) -> tuple[psutil.Process, psutil.Process]:
    """The flametop process in the pane and the target command it started."""
    shell = psutil.Process(int(p.flag("pane_pid")))
    (flametop,) = [c for c in shell.children() if "tui.cli" in _cmdline(c)]
    (started,) = [c for c in flametop.children() if target in _cmdline(c)]
    return flametop, started


def test_top_shows_the_hot_function_first_and_q_restores_the_terminal(
    pane: tuple[Pane, Path],
) -> None:
    p, tmp_path = pane
    # GIVEN a running CPU-bound target (75% of its time in hot_three_quarters)
    with running_target("cpu_75_25") as pid:
        # WHEN flametop top attaches to it in a real terminal
        rc_file = start(p, tmp_path, ["top", "--pid", str(pid), "--save-dir", str(tmp_path)])
        # THEN within a few seconds the hot function is the top row, with a live header
        screen = p.wait_for(lambda s: "hot_three_quarters" in top_row(s), timeout=15)
        assert f"pid {pid}" in screen.splitlines()[0]
        assert "LIVE" in screen.splitlines()[0]
        assert p.flag("alternate_on") == "1"
        # WHEN the user presses q
        p.keys("q")
        # THEN flametop exits 0 and the terminal is back to normal
        assert wait_rc(rc_file) == 0
        p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
        assert p.flag("alternate_on") == "0"
        assert p.flag("mouse_any_flag") == "0"
        assert p.flag("cursor_flag") == "1"
        # and the target it attached to keeps running
        os.kill(pid, 0)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_sighup_or_sigterm_autosaves_a_capture_and_stops_the_started_command(
    pane: tuple[Pane, Path], signum: int
) -> None:
    p, tmp_path = pane
    # GIVEN flametop started a target itself, in 16 colours
    target = str(target_path("cpu_75_25"))
    rc_file = start(
        p, tmp_path, ["top", "--save-dir", str(tmp_path), "--", sys.executable, target], "xterm"
    )
    p.wait_for(lambda s: "hot_three_quarters" in top_row(s), timeout=15)
    flametop, started = flametop_and_target(p, target)
    # WHEN the terminal hangs up (an SSH connection dropped) or flametop is told to stop
    flametop.send_signal(signum)
    # THEN flametop autosaves what it sampled, exits 128+signal and stops its target
    assert wait_rc(rc_file) == 128 + signum
    (saved,) = tmp_path.glob("*.autosave.flametop")
    assert read_profile(saved).total > 0
    gone, alive = psutil.wait_procs([started], timeout=5)
    assert not alive
    p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
    assert p.flag("alternate_on") == "0"


def test_ctrl_c_quits_and_stops_the_command_flametop_started(pane: tuple[Pane, Path]) -> None:
    p, tmp_path = pane
    target = str(target_path("cpu_75_25"))
    rc_file = start(p, tmp_path, ["top", "--save-dir", str(tmp_path), "--", sys.executable, target])
    p.wait_for(lambda s: "hot_three_quarters" in top_row(s), timeout=15)
    flametop, started = flametop_and_target(p, target)
    # WHEN the user presses Ctrl-C
    p.keys("C-c")
    # THEN flametop exits 0, gives the terminal back and stops the command it started
    assert wait_rc(rc_file) == 0
    p.wait_for(lambda s: "FLAMETOP-ENDED" in s, timeout=5)
    assert p.flag("alternate_on") == "0"
    assert p.flag("mouse_any_flag") == "0"
    _, alive = psutil.wait_procs([started], timeout=5)
    assert not alive


def test_without_a_terminal_top_says_so_in_one_line() -> None:
    out = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "tui.cli", "top", "--", sys.executable, "-c", "pass"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "needs a terminal" in out.stderr and "flametop record" in out.stderr


def test_demo_fills_the_screen_and_q_stops_its_workload(pane: tuple[Pane, Path]) -> None:
    p, tmp_path = pane
    # GIVEN `flametop demo` (what `make demo` runs) in a real 80×24 terminal
    rc_file = start(p, tmp_path, ["demo", "--save-dir", str(tmp_path)], size=(80, 24))
    # THEN the live table fills with the workload's functions, named in the header
    screen = p.wait_for(lambda s: "demo_wor" in top_row(s), timeout=20)
    assert "flametop demo" in screen.splitlines()[0]
    assert "⚠" not in screen  # no error on a healthy run
    flametop, workload = flametop_and_target(p, "tui.demo_workload")
    # WHEN the user presses q THEN flametop exits 0 and the workload is stopped
    p.keys("q")
    assert wait_rc(rc_file) == 0
    _, alive = psutil.wait_procs([workload], timeout=5)
    assert not alive
