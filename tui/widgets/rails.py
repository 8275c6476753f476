"""Rails: sparklines with current values for the target's CPU, memory, threads, I/O and
context switches, the profiler's own CPU, and the latency from sample to screen.

With several processes sampled (--subprocesses) CPU, memory and threads are the sum over
the target's process tree, or those of the process chosen with `P`; I/O and context
switches are read for the target alone, so they show only for it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive

from samplers.model import SystemReading
from tui.render.sparkline import human_bytes, percentile, sparkline
from tui.widgets.text_pane import TextPane

MIN_SPARK = 4


@dataclass(frozen=True, slots=True)
class RailsInfo:
    readings: tuple[SystemReading, ...] = ()  # newest last
    latencies_s: tuple[float, ...] = ()  # age of the newest sample when shown, newest last
    process: int | None = None  # the chosen process; None: the target, or the whole tree
    combined: bool = False  # several processes sampled: sum over the target's tree


Figures = tuple[float | None, float | None, float | None]  # CPU %, RSS bytes, threads


def _as_figures(cpu: float | None, rss: int | None, threads: int | None) -> Figures:
    return (cpu, None if rss is None else float(rss), None if threads is None else float(threads))


def _total(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _figures(r: SystemReading, process: int | None, combined: bool) -> Figures:
    """CPU, RSS and threads of the chosen process, of the whole tree, or of the target."""
    own = _as_figures(r.cpu_percent, r.rss_bytes, r.threads)
    if process is not None:
        if r.processes and process == r.processes[0].pid:
            return own
        p = next((p for p in r.processes if p.pid == process), None)
        return (
            (None, None, None) if p is None else _as_figures(p.cpu_percent, p.rss_bytes, p.threads)
        )
    if not combined or not r.processes:
        return own
    each = [_as_figures(p.cpu_percent, p.rss_bytes, p.threads) for p in r.processes]
    return (
        _total([f[0] for f in each]),
        _total([f[1] for f in each]),
        _total([f[2] for f in each]),
    )


@dataclass(frozen=True, slots=True)
class _Rail:
    label: str
    values: tuple[float | None, ...]
    value_text: str
    high: float | None = None  # fixed top of the scale; None: the largest value shown


def _latest(values: Sequence[float | None]) -> float | None:
    for v in reversed(values):
        if v is not None:
            return v
    return None


def _fmt(value: float | None, fmt: Callable[[float], str]) -> str:
    return "–" if value is None else fmt(value)


def build_rails(info: RailsInfo) -> list[_Rail]:
    rs = info.readings
    figures = [_figures(r, info.process, info.combined) for r in rs]
    cpu = tuple(f[0] for f in figures)
    rss = tuple(f[1] for f in figures)
    threads = tuple(f[2] for f in figures)
    # read for the target process only: not shown for another one
    target_only = info.process is None or any(
        r.processes and r.processes[0].pid == info.process for r in rs
    )
    io = tuple(r.io_bytes_per_s if target_only else None for r in rs)
    ctx = tuple(r.ctx_switches_per_s if target_only else None for r in rs)
    own = tuple(r.self_cpu_percent for r in rs)
    lat = info.latencies_s
    if lat:
        p50, p95 = percentile(lat, 50) * 1000, percentile(lat, 95) * 1000
        lat_text = f"p50 {p50:.0f} p95 {p95:.0f}ms"
    else:
        lat_text = "–"
    cpu_high = max(100.0, max((v for v in cpu if v is not None), default=100.0))
    return [
        _Rail("CPU", cpu, _fmt(_latest(cpu), lambda v: f"{v:.0f}%"), cpu_high),
        _Rail("RSS", rss, _fmt(_latest(rss), human_bytes)),
        _Rail("thr", threads, _fmt(_latest(threads), lambda v: f"{v:.0f}")),
        _Rail("I/O", io, _fmt(_latest(io), lambda v: human_bytes(v) + "/s")),
        _Rail("ctx", ctx, _fmt(_latest(ctx), lambda v: f"{v:.0f}/s")),
        _Rail("self", own, _fmt(_latest(own), lambda v: f"{v:.1f}%"), 100.0),
        _Rail("lag", tuple(lat), lat_text),
    ]


class Rails(TextPane):
    COMPONENT_CLASSES = {"rails--label", "rails--spark", "rails--value"}

    # new every batch; the sparklines change about once a second: TextPane paints then
    info: reactive[RailsInfo] = reactive(RailsInfo, repaint=False)

    def watch_info(self) -> None:
        self.state_changed()

    def build(self, width: int, height: int) -> Text:
        rails = build_rails(self.info)
        per_line = max(1, math.ceil(len(rails) / height))
        label_style = self.style_of("rails--label")
        spark_style = self.style_of("rails--spark")
        value_style = self.style_of("rails--value")
        out: list[Text] = []
        for start in range(0, len(rails), per_line):
            chunk = rails[start : start + per_line]
            # Each rail needs its label, value and a few blocks; what is left widens the
            # sparklines evenly, so values are never cut.
            natural = [len(r.label) + len(r.value_text) + 2 + MIN_SPARK + 2 for r in chunk]
            spare = max(0, width - sum(natural))
            row = Text(no_wrap=True)
            for i, rail in enumerate(chunk):
                extra = spare // len(chunk) + (1 if i < spare % len(chunk) else 0)
                spark_w = MIN_SPARK + extra
                values = sparkline(rail.values, spark_w, low=0.0, high=rail.high, align="left")
                row.append(rail.label, label_style)
                row.append(" ")
                row.append(values.ljust(spark_w), spark_style)
                row.append(" ")
                row.append(rail.value_text, value_style)
                row.append("  ")
            row.rstrip()
            row.truncate(width)
            out.append(row)
        return Text("\n").join(out)
