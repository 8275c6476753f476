"""Helpers for the report/view tests: run the real CLI in a subprocess, build small
profiles with known shares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch

REPO = Path(__file__).resolve().parent.parent
TARGETS = REPO / "tests" / "targets"

MAIN = Frame("<module>", "app.py", 1)
HOT = Frame("hot", "app.py", 10)
WARM = Frame("warm", "app.py", 20)
REC = Frame("rec", "app.py", 30)


def cli(
    *args: str, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m tui.cli ARGS` with a pipe for stdout (not a terminal), colour left on."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    env["PYTHONPATH"] = str(REPO)
    env["COLUMNS"] = "200"
    return subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd or REPO,
        stdin=subprocess.DEVNULL,
    )


def profile_of(
    stacks: list[tuple[tuple[Frame, ...], int]],
    *,
    thread: str = "MainThread",
    rate: float = 100.0,
    name: str = "test",
) -> Profile:
    samples = tuple(Sample(thread, stack, count) for stack, count in stacks)
    batch = SampleBatch(1_700_000_000.0, 1_700_000_010.0, samples, "cpu", rate)
    meta = Metadata(flametop_version="0.1.0", sampler=name, rate=rate, mode="cpu")
    return Profile(metadata=meta, batches=(batch,))


def hot_profile(hot_share: int, warm_share: int) -> Profile:
    """`hot` and `warm` under <module>, with the given counts (out of their sum)."""
    return profile_of([((MAIN, HOT), hot_share), ((MAIN, WARM), warm_share)])
