"""The exit guard's last resorts (tui/hangup.py), in child processes stuck as `flametop
top` was after a hang-up: a main thread blocked on a queue nobody drains (Textual's
writer), and a run that is over while a non-daemon thread never ends (Textual's input
thread on a dead terminal). The process must end all the same, with the right code."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from support_targets import REPO

GUARDED = (
    "import queue, sys, threading\n"
    "from pathlib import Path\n"
    "from tui.hangup import ExitGuard\n"
    "out = Path(sys.argv[1])\n"
    "guard = ExitGuard(grace_s=1.0)\n"
    "guard.autosave = lambda: (out / 'autosaved').write_text('1')\n"
    "guard.stop_target = lambda: (out / 'stopped').write_text('1')\n"
    "guard.install()\n"
    "guard.no_more_interrupts()\n"
)


def _run(tmp_path: Path, code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - fixed argument list
        [sys.executable, "-c", GUARDED + code, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_hang_up_ends_a_process_whose_main_thread_is_stuck(tmp_path: Path) -> None:
    # GIVEN a guarded process whose main thread is blocked for good on a full queue
    stuck = "q = queue.Queue(1)\nq.put(1)\nprint('stuck', flush=True)\nq.put(2)\n"
    child = _run(tmp_path, stuck)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "stuck"
        # WHEN the terminal hangs up
        child.send_signal(signal.SIGHUP)
        # THEN after the grace period it autosaves, stops its command and exits 128+SIGHUP
        assert child.wait(timeout=10) == 128 + signal.SIGHUP
        assert (tmp_path / "autosaved").exists()
        assert (tmp_path / "stopped").exists()
    finally:
        child.kill()
        child.wait()


def test_a_thread_left_running_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    # GIVEN a run that is over while a non-daemon thread waits for ever
    leftover = (
        "threading.Thread(target=threading.Event().wait, name='textual-input').start()\n"
        "guard.uninstall()\n"
        "guard.exit_if_threads_left(3)\n"
        "print('not reached', flush=True)\n"
    )
    child = _run(tmp_path, leftover)
    try:
        # THEN the process still ends, with the run's exit code
        assert child.wait(timeout=10) == 3
        assert child.stdout is not None and "not reached" not in child.stdout.read()
    finally:
        child.kill()
        child.wait()
