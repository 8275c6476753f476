"""PySpySampler under faults and at its seams: overlapping hand-overs are accounted,
py-spy killed mid-chunk is restarted with the lost time counted, and a target killed or
left a zombie ends sampling with what was collected kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support_targets import run_flametop, running_target, target_path

from samplers.backends.pyspy_cli import PySpySampler
from samplers.backends.pyspy_tool import classify_failure
from samplers.errors import NotPythonError
from samplers.model import SampleBatch, SamplingOptions


@dataclass
class FakeRun:
    """A finished py-spy run, as _deliver sees it."""

    spawned: float
    not_started_at: float
    started: float
    ticks: int
    opts: SamplingOptions = field(default_factory=lambda: SamplingOptions(mode="wall"))
    returncode: int = 0
    cpu_seconds: float = 0.01

    def text(self) -> tuple[str, str, str]:
        raw = f"thread (1): MainThread;main (a.py:1) {self.ticks}\n"
        return raw, f"Samples: {self.ticks} Errors: 0\n", ""


def test_a_hand_over_overlap_is_counted_as_asked_for_not_hidden() -> None:
    sampler = PySpySampler(os.getpid())
    # GIVEN a first run seen sampling at t=10.000 (idle at 9.996), stopped at 11.000
    first = FakeRun(spawned=9.9, not_started_at=9.996, started=10.0, ticks=100)
    assert sampler._deliver(first, None, 11.0)  # type: ignore[arg-type]
    # AND the next run, idle at 10.995 and seen sampling at 10.998, so both sampled for
    # up to 5 ms before the first was interrupted at the boundary 11.000
    second = FakeRun(spawned=10.9, not_started_at=10.995, started=10.998, ticks=101)
    assert sampler._deliver(second, 11.0, 12.0)  # type: ignore[arg-type]
    health = sampler.health
    # THEN the batches meet at the boundary, and the overlap (2 ms + 1.5 ms on average)
    # plus the first run's unseen start (2 ms) count as asked-for samples
    assert health.samples == 201
    assert health.expected == pytest.approx(200 + 100 * (0.002 + 0.0015 + 0.002))
    assert sampler.overlap_bounds == [pytest.approx(0.005)]
    assert sampler.overlap_seconds_total == pytest.approx(0.0055)


def _collect(sampler: PySpySampler, seconds: float) -> list[SampleBatch]:
    batches: list[SampleBatch] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not sampler.finished:
        batch = sampler.poll(0.1)
        if batch is not None:
            batches.append(batch)
    return batches


@pytest.mark.pyspy
def test_pyspy_killed_mid_chunk_is_restarted_and_the_loss_counted() -> None:
    with running_target("cpu_75_25") as pid:
        sampler = PySpySampler(pid, backoff=(0.05, 0.05, 0.05))
        sampler.start()
        try:
            before = _collect(sampler, 1.5)
            # WHEN the running py-spy is killed mid-chunk (OOM killer, a stray kill -9)
            runs = [
                p
                for p in _children(os.getpid())
                if "py-spy" in p[1] and f"--pid {pid}" in p[1] and "record" in p[1]
            ]
            assert runs, "a py-spy run was going"
            for child, _ in runs:
                os.kill(child, signal.SIGKILL)
            after = _collect(sampler, 3.0)
        finally:
            sampler.stop()
    health = sampler.health
    # THEN sampling goes on with new runs, the kill is in the errors, the lost time in
    # coverage, and no batch's time overlaps another's (nothing counted twice)
    assert before and after and sum(b.count for b in after) > 50
    assert health.state == "stopped"
    assert health.restarts >= 1 and health.errors
    assert health.gap_seconds_total > 0.1
    batches = before + after
    for prev, nxt in zip(batches, batches[1:], strict=False):
        assert nxt.t_start >= prev.t_end - 1e-6


def _children(pid: int) -> list[tuple[int, str]]:
    out = subprocess.run(  # noqa: S603
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = []
    for line in out.splitlines():
        child, _, args = line.strip().partition(" ")
        found.append((int(child), args))
    return found


@pytest.mark.pyspy
@pytest.mark.parametrize("how", ["sigkill", "zombie"])
def test_record_keeps_data_when_the_attached_target_dies(tmp_path: Path, how: str) -> None:
    # GIVEN a target flametop attached to: killed with SIGKILL, or a child of a parent
    # that never reaps it (it stays a zombie)
    out = tmp_path / "p.folded"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, {str(target_path('cpu_75_25'))!r}])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        time.sleep(0.4)
        rec = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tui.cli", "record", "--pid", str(pid), "-d", "20"]
            + ["-o", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        assert rec.stderr is not None
        assert "recording pid" in rec.stderr.readline()  # sampling has started
        time.sleep(2.0)  # past the first chunks
        os.kill(pid, signal.SIGKILL)  # a zombie now: the parent does not wait for it
        if how == "sigkill":
            parent.kill()  # its parent gone too: the target is reaped by init
        started = time.monotonic()
        stdout, rest = rec.communicate(timeout=30)
        stderr = rest
        noticed = time.monotonic() - started
    finally:
        parent.kill()
        parent.wait()
    # THEN flametop noticed within seconds, wrote what it had, and exits 1 saying so
    assert noticed < 10, noticed
    assert rec.returncode == 1, stderr
    assert f"pid {pid} exited after" in stderr and "Traceback" not in stderr
    assert "target exited" in stdout
    assert "hot_three_quarters" in out.read_text(encoding="utf-8")


@pytest.mark.pyspy
def test_record_of_a_started_command_killed_midway_keeps_its_data_and_exits_1(
    tmp_path: Path,
) -> None:
    # GIVEN `record -- CMD` whose command is killed with SIGKILL after 2.5 s
    out = tmp_path / "k.folded"
    code = (
        "import os, signal, threading, runpy, sys\n"
        "threading.Timer(2.5, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\n"
        f"sys.argv = [{str(target_path('cpu_75_25'))!r}]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    result = run_flametop("record", "-d", "20", "-o", str(out), "--", sys.executable, "-c", code)
    # THEN what was sampled is written, and the run is reported as failed in one line
    assert result.returncode == 1, result.stderr
    assert "the command was killed by SIGKILL after" in result.stderr
    assert "target exited" in result.stdout and "Traceback" not in result.stderr
    assert "hot_three_quarters" in out.read_text(encoding="utf-8")
    # AND a command that ends normally is a normal end: exit 0
    ok = run_flametop(
        "record",
        "-o",
        str(tmp_path / "ok.folded"),
        "--",
        sys.executable,
        str(target_path("cpu_75_25")),
        "2",
    )
    assert ok.returncode == 0, ok.stderr


NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")
IMPOSTOR = "def impostor_loop():\n    while True:\n        pass\nimpostor_loop()\n"


def _spawn_at_pid(pid: int) -> subprocess.Popen[bytes] | None:
    """A new Python process given `pid` (root may set the next pid), or None."""
    for _ in range(20):
        NS_LAST_PID.write_text(str(pid - 1))
        proc = subprocess.Popen([sys.executable, "-c", IMPOSTOR])  # noqa: S603
        if proc.pid == pid:
            return proc
        proc.kill()  # another process took the pid first: try again
        proc.wait()
    return None


@pytest.mark.pyspy
@pytest.mark.skipif(not os.access(NS_LAST_PID, os.W_OK), reason="cannot choose the next pid")
def test_a_reused_pid_ends_sampling_instead_of_sampling_a_stranger() -> None:
    # GIVEN a sampler on a target
    victim = subprocess.Popen([sys.executable, str(target_path("cpu_75_25"))])  # noqa: S603
    time.sleep(0.4)
    sampler = PySpySampler(victim.pid, backoff=(0.05, 0.1, 0.2))
    impostor: subprocess.Popen[bytes] | None = None
    try:
        sampler.start()
        before = _collect(sampler, 1.5)
        # WHEN it dies and a new Python process gets its pid at once
        victim.kill()
        victim.wait()
        impostor = _spawn_at_pid(victim.pid)
        if impostor is None:
            pytest.skip("another process kept taking the pid")
        after = _collect(sampler, 4.0)
        finished = sampler.finished
    finally:
        sampler.stop()
        victim.kill()
        victim.wait()
        if impostor is not None:
            impostor.kill()
            impostor.wait()
    # THEN sampling ended as "target exited", and nothing of the stranger was sampled
    assert before and finished
    assert sampler.health.state == "target-exited"
    functions = {f.function for b in before + after for s in b.samples for f in s.stack}
    assert "impostor_loop" not in functions


def test_a_python_too_new_for_py_spy_says_to_upgrade_it() -> None:
    # GIVEN py-spy's words for an interpreter it does not know (e.g. a new release)
    stderr = "Error: Unsupported version of Python: 3.15.0a1\n\nStack backtrace:\n  0: x\n"
    error = classify_failure(os.getpid(), stderr)
    # THEN one line naming the version and the fix
    assert isinstance(error, NotPythonError)
    assert "Python 3.15.0a1" in str(error) and "pip install -U py-spy" in str(error)
    assert "\n" not in str(error)
