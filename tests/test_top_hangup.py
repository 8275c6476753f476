"""`flametop top` when its terminal goes away, as when an SSH connection drops: tmux
sessions are killed under it, several at once, some while it runs and some right after
`q`. flametop runs as the pane's own process (the session leader, so the kernel sends it
SIGCONT with the SIGHUP, as sshd's shell would its foreground job's leader). Each time
flametop must end within seconds, with the command it started and its py-spy children
gone, and with an autosave when it was hung up while running."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from support_targets import REPO, kill_tree, target_path
from test_top_e2e import top_row

pytestmark = [
    pytest.mark.pyspy,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed"),
]

# (press q first, seconds between q and the hang-up): q is answered in a few ms, the
# screen is torn down over the next few hundred; a hang-up then lands at different
# moments of that. Without the fix, hang-ups 0.15-0.3 s after q left flametop spinning.
CASES = [(False, 0.0), (False, 0.0), (True, 0.15), (True, 0.2), (True, 0.25), (True, 0.3)]
GONE_WITHIN_S = 8.0  # the exit guard's 3 s grace, then stopping the command


@dataclass
class Session:
    name: str
    save_dir: Path
    flametop: psutil.Process
    started: psutil.Process
    family: list[psutil.Process]  # flametop's children at the hang-up, py-spy among them


@pytest.fixture
def server(tmp_path: Path) -> Iterator[list[str]]:
    """A private tmux server (its own socket, never the user's), killed afterwards."""
    base = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True)  # noqa: S603


def _tmux(base: list[str], *args: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed argument list
        [*base, *args], capture_output=True, text=True, check=True
    ).stdout


def _start(base: list[str], name: str, save_dir: Path, marker: str) -> None:
    target = [sys.executable, str(target_path("cpu_75_25")), "60", marker]
    cmd = [sys.executable, "-m", "tui.cli", "top", "--save-dir", str(save_dir), "--", *target]
    size = ["-x", "120", "-y", "40", "-e", "TERM=xterm-256color", "-c", str(REPO)]
    _tmux(base, "new-session", "-d", "-s", name, *size, *cmd)  # argv form: no shell between


def _running(base: list[str], name: str, save_dir: Path, marker: str) -> Session:
    deadline = time.monotonic() + 30
    while "hot_three_quarters" not in top_row(_tmux(base, "capture-pane", "-p", "-t", name)):
        assert time.monotonic() < deadline, f"{name}: the table never showed the target"
        time.sleep(0.2)
    flametop = psutil.Process(int(_tmux(base, "display", "-p", "-t", name, "#{pane_pid}")))
    assert "tui.cli" in flametop.cmdline()
    children = flametop.children(recursive=True)
    # (a fork of flametop about to exec py-spy still shows flametop's command line)
    (started,) = [c for c in children if marker in _cmdline(c) and "tui.cli" not in _cmdline(c)]
    return Session(name, save_dir, flametop, started, children)


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def test_a_hung_up_terminal_always_ends_flametop_and_what_it_started(
    server: list[str], tmp_path: Path
) -> None:
    # GIVEN several flametop sessions, each running a command it started
    marker = f"flametop-hangup-{uuid.uuid4().hex}"
    names = [f"s{i}" for i in range(len(CASES))]
    for i, name in enumerate(names):
        _start(server, name, tmp_path / name, f"{marker}-{i}")
    sessions = [_running(server, n, tmp_path / n, f"{marker}-{i}") for i, n in enumerate(names)]
    try:
        # WHEN each terminal goes away: while running, or just after q was pressed
        for session, (quit_first, gap) in zip(sessions, CASES, strict=True):
            if quit_first:
                _tmux(server, "send-keys", "-t", session.name, "q")
                time.sleep(gap)
            # (a quick quit may have ended the session already)
            subprocess.run([*server, "kill-session", "-t", session.name], capture_output=True)  # noqa: S603
        # THEN every flametop ends within seconds, with everything it started
        everything = [p for s in sessions for p in (s.flametop, *s.family)]
        _, alive = psutil.wait_procs(everything, timeout=GONE_WITHIN_S)
        assert not alive, "left running: " + "; ".join(" ".join(_cmdline(p)) for p in alive)
        # AND a session hung up while running autosaved what it had sampled
        for session, (quit_first, _gap) in zip(sessions, CASES, strict=True):
            if not quit_first:
                assert list(session.save_dir.glob("*.autosave.flametop")), session.name
    finally:
        for session in sessions:
            for proc in (session.flametop, session.started):
                kill_tree(proc.pid)


def test_a_hang_up_while_starting_stops_the_command_flametop_started(
    server: list[str], tmp_path: Path
) -> None:
    # GIVEN flametop still looking for the Python behind a wrapper that starts it late
    marker = f"flametop-hangup-{uuid.uuid4().hex}"
    target = [sys.executable, str(target_path("cpu_75_25")), "60", marker]
    wrapper = ["bash", "-c", f"sleep 2.5; exec {shlex.join(target)}", marker]
    cmd = [sys.executable, "-m", "tui.cli", "top", "--save-dir", str(tmp_path), "--", *wrapper]
    _tmux(
        server, "new-session", "-d", "-s", "start", "-x", "120", "-y", "40", "-c", str(REPO), *cmd
    )
    flametop = psutil.Process(int(_tmux(server, "display", "-p", "-t", "start", "#{pane_pid}")))
    deadline = time.monotonic() + 10
    while not (started := [c for c in flametop.children() if marker in _cmdline(c)]):
        assert time.monotonic() < deadline, "flametop never started the command"
        time.sleep(0.05)
    try:
        # WHEN its terminal hangs up before the screen is drawn
        time.sleep(0.5)
        flametop.send_signal(signal.SIGHUP)
        # THEN flametop ends, and the command it started never gets to run on its own
        _, alive = psutil.wait_procs([flametop, *started], timeout=GONE_WITHIN_S)
        assert not alive, "left running: " + "; ".join(" ".join(_cmdline(p)) for p in alive)
        time.sleep(2.5)  # when the wrapper would have started Python
        orphans = [p for p in psutil.process_iter() if marker in " ".join(_cmdline(p))]
        assert not orphans, orphans
    finally:
        for proc in (flametop, *started):
            kill_tree(proc.pid)
