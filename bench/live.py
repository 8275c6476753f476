"""Figures 1-4 and 8-11, against real py-spy on real targets, in the same run.

Targets: bench/targets/throughput.py (one busy thread, 75 % of its work in
hot_three_quarters by design, prints its throughput) and tests/targets/idle_threads.py
(50 threads in Event.wait + 1 busy main thread).

1 coverage and 4 accuracy: `flametop record` (default in-process sampler) vs one
  `py-spy record` run, 20 s at 100 Hz, same target.
2 own CPU, 3 target slowdown, 8 start-up and 9 latency: the target alone, under
  `py-spy top`, `flametop top` (in-process), `flametop top --sampler py-spy` (the CLI
  fallback) and `flametop top --production`, each tool in a real pseudo-terminal (tmux).
  Conditions are interleaved within each repeat so machine noise hits all alike. Own CPU
  is taken over the whole run from the command's start (start-up included) and, beside
  it, over the steady part (from STEADY_FROM on). Latency is read off the app's lag rail
  (p50/p95 of the age of the newest sample when shown, over the 30 s window) at the end.
10 1000 Hz: `flametop record --rate 1000` vs `py-spy record -r 1000` on one busy thread:
  achieved rate and coverage, and the recorder's own CPU (rusage of the whole command).
11 real server: `flametop top --subprocesses` vs `py-spy top --subprocesses` on a loaded
  pre-fork server's master (bench/server_figures.py).
"""

from __future__ import annotations

from collections.abc import Callable

from bench.common import Budget, Line, not_measured
from bench.record_figures import fast_figures, record_figures
from bench.server_figures import server_figures
from bench.top_figures import top_figures


def live(repeats: int, budget: Budget) -> list[Line]:
    lines: list[Line] = []
    sections: tuple[tuple[str, Callable[[], list[Line]], tuple[str, ...]], ...] = (
        (
            "top",
            lambda: top_figures(repeats, budget),
            ("2 own CPU", "3 slowdown", "8 start-up", "9 latency"),
        ),
        ("record", lambda: record_figures(repeats), ("1 coverage", "4 accuracy")),
        ("1000 Hz", lambda: fast_figures(repeats), ("10 1000 Hz",)),
        # one repeat: 2 x 20 s on a server fits the budget; the ratio is within one run
        ("real server", lambda: server_figures(1), ("11 real server",)),
    )
    for name, section, figures in sections:
        try:
            lines += section()
        except Exception as exc:  # e.g. py-spy cannot attach here: say so, keep going
            lines += [not_measured(f, name, f"{type(exc).__name__}: {exc}") for f in figures]
    return lines
