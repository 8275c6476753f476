"""`flametop record` stopped by a signal at any moment: a dropped SSH session (SIGHUP) or
SIGTERM while sampling still writes every output; a signal while it starts leaves no
traceback and no stray file. (Ctrl-C midway: tests/test_record.py.)"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from support_targets import REPO, flametop_cmd, running_target

from samplers.formats import read_profile

pytestmark = pytest.mark.pyspy


def _record(tmp_path: Path, pid: int) -> subprocess.Popen[str]:
    outs = ["-o", str(tmp_path / "r.flametop"), "-o", str(tmp_path / "r.svg")]
    return subprocess.Popen(  # noqa: S603
        flametop_cmd("record", "--pid", str(pid), "-d", "60", *outs),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_signal_while_sampling_still_writes_every_output(tmp_path: Path, signum: int) -> None:
    with running_target("cpu_75_25") as pid:
        proc = _record(tmp_path, pid)
        assert proc.stderr is not None
        assert "recording pid" in proc.stderr.readline()
        time.sleep(1.5)
        # WHEN the SSH session drops (SIGHUP) or the recording is told to stop
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=20)
    # THEN it stops at once, writes what it had to every output, and exits 0
    assert proc.returncode == 0, stderr
    assert "stopped by you" in stdout
    assert read_profile(tmp_path / "r.flametop").total > 30
    assert (tmp_path / "r.svg").read_text(encoding="utf-8").rstrip().endswith("</svg>")


def test_a_signal_while_starting_leaves_no_traceback_or_stray_file(tmp_path: Path) -> None:
    with running_target("sleeper") as pid:
        for delay in (0.1, 0.7):
            proc = _record(tmp_path, pid)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=20)
            # THEN it ends (by the signal, or having written an empty recording), cleanly
            assert "Traceback" not in stderr
            assert proc.returncode in (0, -signal.SIGTERM), stderr
            written = sorted(p.name for p in tmp_path.iterdir())
            assert written in ([], ["r.flametop", "r.svg"]), written
            for path in tmp_path.iterdir():
                path.unlink()
