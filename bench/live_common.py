"""What the live figures share: the targets, their run lengths, and starting and
stopping a target (bench/record_figures.py and bench/top_figures.py use them)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from bench.common import (
    PYTHON,
    ROOT,
)

TARGET = ROOT / "bench" / "targets" / "throughput.py"
IDLE_TARGET = ROOT / "tests" / "targets" / "idle_threads.py"
HOT = "hot_three_quarters"
IDLE_HOT = "busy"
RECORD_S = 20
RATE = 100
FAST_RATE, FAST_S = 1000, 10
# Own CPU runs: 30 s, not the 60 s the goal names: 60 s x 5 conditions x 2 targets x
# repeats does not fit the ~10 minute budget of `make bench` (the labels say 30 s).
RUN_S = 30.0
SHORT_S = 12.0  # "alone" and --production: throughput only (figure 3)
STEADY_FROM = 5.0  # steady state: from here to the end of the run
TMUX = ["tmux", "-L", os.environ.get("FLAMETOP_BENCH_TMUX", "flametop-bench"), "-f", "/dev/null"]
LAG = re.compile(r"p50 (\d+) p95 (\d+)ms")
SUMMARY = re.compile(r"(\d+) instants sampled of (\d+) asked for \(([\d.]+)% coverage; (\d+) late")
RECORDED_FOR = re.compile(r"for ([\d.]+) s ·")


def start_target(path: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - fixed argument list
        [PYTHON, str(path), str(seconds)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def stop_target(proc: subprocess.Popen[str], wait: float) -> str:
    try:
        out, _ = proc.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def throughput_of(out: str, until: float) -> float:
    """Work units per second over [STEADY_FROM, until], counting only time the target was
    not waiting for a CPU (schedstat): time a profiler holds it stopped still counts,
    time other processes on this shared machine took from it does not."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            rows.append((float(parts[0]), int(parts[1]), int(parts[3]) / 1e9))
    steady = [
        (t1 - t0 - (w1 - w0), n1)
        for (t0, _, w0), (t1, n1, w1) in zip(rows, rows[1:], strict=False)
        if STEADY_FROM <= t1 <= until + 0.5
    ]
    useful = sum(dt for dt, _ in steady)
    return sum(n for _, n in steady) / useful if useful > 0 else 0.0
