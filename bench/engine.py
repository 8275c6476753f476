"""Figures 5 and 7: StackTree ingest rate and snapshot build time at 1k/10k/100k distinct
stacks, and RSS after a simulated one-hour run (in a subprocess, so RSS is clean).

Times are CPU time of the building thread: the benchmark machines are shared, and other
processes' load should not count against the engine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time

from bench.common import PYTHON, ROOT, Line, Measure, not_measured
from samplers.backends.synthetic import synthetic_batches
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree

STACKS = (1_000, 10_000, 100_000)
SECONDS = 120  # of synthetic profile at 100 Hz on 4 threads; the last 30 s are measured
MEASURED = 20


def engine(repeats: int) -> list[Line]:
    lines: list[Line] = []
    for n in STACKS:
        batches = list(synthetic_batches(n_stacks=n, seconds=SECONDS, rate=100, threads=4))
        warm = batches[: SECONDS - MEASURED]
        warm_samples = sum(b.count for b in warm)
        ingest: list[float] = []
        live: list[float] = []
        everything: list[float] = []
        for _ in range(repeats):
            tree = StackTree()
            t = time.thread_time()
            for b in warm:
                tree.add(b)
            ingest.append(warm_samples / max(1e-9, time.thread_time() - t))
            tree.snapshot(View())
            tree.snapshot(View(window_s=None))
            steps: tuple[list[float], list[float]] = ([], [])
            for b in batches[SECONDS - MEASURED :]:
                tree.add(b)  # a new second arrives, then the UI asks for both views
                for times, view in zip(steps, (View(), View(window_s=None)), strict=True):
                    t = time.thread_time()
                    tree.snapshot(view)
                    times.append((time.thread_time() - t) * 1000)
            live.append(statistics.median(steps[0]))
            everything.append(statistics.median(steps[1]))
        label = f"{n // 1000}k stacks"
        lines.append(Line("5 engine", f"ingest, {label}", Measure(tuple(ingest), "samples/s", 0)))
        goal = "< 50 ms" if n == 10_000 else ""
        for name, values in (("live 30 s window", live), ("since start", everything)):
            m = Measure(tuple(values), "ms")
            lines.append(
                Line(
                    "5 engine",
                    f"snapshot, {name}, {label}",
                    m,
                    goal=goal,
                    met=(m.median < 50) if goal else None,
                    note=f"median over {MEASURED} new seconds, each followed by both views; CPU time of the building thread",
                )
            )
    return lines


def memory(repeats: int) -> list[Line]:
    item = "RSS after 1 h at 100 Hz, 10k stacks"
    goal = "< 150 MB, flat"
    # The probes are independent processes: run them side by side (RSS is per process).
    procs = [
        subprocess.Popen(  # noqa: S603 - fixed argument list
            [PYTHON, "-m", "bench.memory_probe"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(repeats)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            return [not_measured("7 memory", item, err.strip()[-200:], goal)]
        results.append(json.loads(out.strip().splitlines()[-1]))
    end = Measure(tuple(r["rss_mb"][-1] for r in results), "MB")
    half = Measure(tuple(r["rss_mb"][-1] - r["rss_mb"][-2] for r in results), "MB")
    flat = half.median < 0.15 * end.median
    marks = ", ".join(
        f"{m} min {v:.0f} MB"
        for m, v in zip(results[0]["minutes"], results[0]["rss_mb"], strict=True)
    )
    return [
        Line(
            "7 memory",
            item,
            end,
            goal=goal,
            met=end.median < 150 and flat,
            note=f"growth over the last 30 min {half.text()}; buckets {results[0]['buckets']}; {marks}",
        )
    ]
