"""Shared pieces of `make bench`: result lines, statistics, process CPU accounting.

Every figure is the median of several repeats with min and max, next to a peer measured
in the same run where one exists; a figure that cannot be measured here says why.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Measure:
    """Repeated measurements of one quantity."""

    values: tuple[float, ...]
    unit: str = ""
    digits: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self) -> str:
        def f(v: float) -> str:
            return f"{v:,.{self.digits}f}"

        unit = f" {self.unit}" if self.unit else ""
        if len(self.values) == 1:
            return f"{f(self.values[0])}{unit}"
        return f"{f(self.median)}{unit} [{f(min(self.values))}–{f(max(self.values))}]"


@dataclass
class Line:
    """One row of the results table."""

    figure: str
    item: str
    ours: Measure | None = None
    peer: Measure | None = None
    peer_name: str = ""
    ratio: float | None = None  # ours / peer, medians
    goal: str = ""
    met: bool | None = None  # None: no goal, or not measured
    note: str = ""
    not_measured: str = ""  # the reason, when not measured

    @property
    def status(self) -> str:
        if self.not_measured:
            return "not measured"
        if self.met is None:
            return ""
        return "met" if self.met else "MISSED"


@dataclass
class Budget:
    """Wall-clock budget for the whole run, so `make bench` stays under 12 minutes."""

    seconds: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)


def not_measured(figure: str, item: str, reason: str, goal: str = "") -> Line:
    return Line(figure, item, goal=goal, not_measured=reason)


def ratio(ours: Measure, peer: Measure) -> float | None:
    return ours.median / peer.median if peer.median else None


def tree_cpu_seconds(proc: psutil.Process) -> tuple[float, float]:
    """CPU seconds of a process itself, and of its children (reaped and live)."""
    own = kids = 0.0
    try:
        t = proc.cpu_times()
        own = t.user + t.system
        kids = t.children_user + t.children_system
        for child in proc.children(recursive=True):
            try:
                c = child.cpu_times()
                kids += c.user + c.system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return own, kids


def run(cmd: Sequence[str], timeout: float, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - argument lists built here, never a shell
        list(cmd), capture_output=True, text=True, timeout=timeout, check=False, **kw
    )


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def folded_counts(text: str) -> dict[str, int]:
    """Folded stacks ("a;b;c 12" per line) to counts per stack line."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            out[stack] = out.get(stack, 0) + int(count)
    return out


def leaf_share(counts: dict[str, int], needle: str) -> float:
    """Share of samples whose leaf frame's text contains `needle`."""
    total = sum(counts.values())
    hot = sum(c for s, c in counts.items() if needle in s.rsplit(";", 1)[-1])
    return hot / total if total else 0.0
