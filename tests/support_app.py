"""Helpers for driving the live App in tests: a scripted Sampler, a fixed workload and
waits that poll the App instead of sleeping blindly."""

from __future__ import annotations

import asyncio
import functools
import html
import math
import queue
import re
import threading
from collections.abc import Callable, Coroutine
from dataclasses import fields
from typing import Any

from samplers.model import Frame, Health, Sample, SampleBatch, SamplingOptions, SystemReading

T0 = 1_700_000_000.0  # fixed epoch: screens and files do not depend on today's date

MAIN = Frame("<module>", "app.py", 1)
SERVE = Frame("serve", "app.py", 10)
HOT = Frame("hot_loop", "app.py", 20)
PARSE = Frame("parse", "json_io.py", 5)
WORKER_RUN = Frame("run", "worker.py", 3)
CRUNCH = Frame("crunch", "worker.py", 30)
SLEEPY = Frame("wait_for_io", "worker.py", 44)
HOSTILE = Frame("\x1b[31mevil[bold red]x[/]\u202e", "[link=x]f.py", 7)


def second(
    i: int,
    *,
    hot: int = 60,
    parse: int = 20,
    crunch: int = 15,
    sleepy: int = 5,
    hostile: int = 0,
    mode: str = "cpu",
) -> SampleBatch:
    """One second of samples starting at T0 + i, with the given counts per leaf."""
    samples = [
        Sample("MainThread", (MAIN, SERVE, HOT), hot),
        Sample("MainThread", (MAIN, SERVE, PARSE), parse),
        Sample("worker-1", (WORKER_RUN, CRUNCH), crunch),
        Sample("worker-1", (WORKER_RUN, SLEEPY), sleepy),
    ]
    if hostile:
        samples.append(Sample("evil\x1b]0;title\x07thread", (MAIN, HOSTILE), hostile))
    return SampleBatch(
        t_start=T0 + i,
        t_end=T0 + i + 1,
        samples=tuple(s for s in samples if s.count),
        mode=mode,  # type: ignore[arg-type]
        rate=100.0,
    )


class ScriptedSampler:
    """A Sampler whose batches the test hands over with `feed`; `finish()` ends it."""

    announces = False
    modes_are_views = False
    on_news: Callable[[], None] | None = None

    def __init__(self, batches: list[SampleBatch] | None = None) -> None:
        self._queue: queue.Queue[SampleBatch] = queue.Queue()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._samples = 0
        self.options = SamplingOptions()
        self.configured: list[dict[str, object]] = []  # what each configure changed
        self.started = False
        self.stopped = False
        self.poll_error: Exception | None = None
        for b in batches or []:
            self.feed(b)

    def feed(self, batch: SampleBatch) -> None:
        self._queue.put(batch)

    def finish(self) -> None:
        self._finished.set()

    @property
    def health(self) -> Health:
        with self._lock:
            samples = self._samples
        return Health(
            rate=100.0,
            achieved_rate=100.0,
            coverage=1.0,
            samples=samples,
            expected=float(samples),
            state="running",
        )

    @property
    def finished(self) -> bool:
        return self._finished.is_set() and self._queue.empty()

    def start(self) -> None:
        self.started = True

    def poll(self, timeout: float) -> SampleBatch | None:
        if self.poll_error is not None:
            error, self.poll_error = self.poll_error, None
            raise error
        try:
            batch = self._queue.get(timeout=min(timeout, 0.02))
        except queue.Empty:
            return None
        with self._lock:
            self._samples += batch.count
        return batch

    def stop(self) -> None:
        self.stopped = True

    def configure(self, options: SamplingOptions) -> None:
        before, self.options = self.options, options
        changed = {f.name: getattr(options, f.name) for f in fields(options)}
        self.configured.append({k: v for k, v in changed.items() if getattr(before, k) != v})


class FixedClock:
    """A clock the test sets; the app reads it for pause durations and latency."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds; fail the test after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test under asyncio.run (no asyncio pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def table_functions(app: Any, label: bool = False) -> list[str]:
    """The function column of the top table, top row first: names, or full labels."""
    from tui.widgets.top_table import TopTable

    table = app.query_one(TopTable)
    cells = [str(table.get_cell(row.key, "function")) for row in table.ordered_rows]
    return cells if label else [c.split(" (")[0] for c in cells]


def screen_text(app: Any) -> str:
    """The screen as plain text lines, read back from Textual's SVG export."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        x, y, text = float(m.group(1)), float(m.group(2)), html.unescape(m.group(3))
        rows.setdefault(y, []).append((x, text))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.replace("\xa0", " "))
    return "\n".join(lines)


def steady_workload(seconds: int = 30, hostile: int = 0) -> list[SampleBatch]:
    """`seconds` of the fixed workload with loads that drift, so sparklines have shape."""
    out = []
    for i in range(seconds):
        swing = round(20 * math.sin(i / 3))
        out.append(
            second(i, hot=50 + swing, parse=20, crunch=25 - swing // 2, sleepy=5, hostile=hostile)
        )
    return out


def steady_readings(seconds: int = 30) -> list[SystemReading]:
    return [
        SystemReading(
            t=T0 + i + 0.5,
            cpu_percent=60 + 30 * math.sin(i / 4),
            rss_bytes=200_000_000 + i * 1_000_000,
            threads=9,
            io_bytes_per_s=4096.0 * (i % 5),
            ctx_switches_per_s=300.0 + 10 * (i % 7),
            self_cpu_percent=1.5,
        )
        for i in range(seconds)
    ]


def steady_app(save_dir: Any = "flametop-snapshots", hostile: int = 0) -> Any:
    """A deterministic App: fixed batches and readings, fixed clock, no live monitor."""
    from samplers.model import Metadata
    from samplers.tree.stacktree import StackTree
    from tui.app import FlametopApp

    tree = StackTree(rate=100.0)
    for reading in steady_readings():
        tree.add_reading(reading)
    return FlametopApp(
        ScriptedSampler(steady_workload(hostile=hostile)),
        target="pid 4242 python app.py --serve",
        metadata=Metadata(pid=4242, rate=100.0, mode="cpu"),
        save_dir=save_dir,
        tree=tree,
        clock=FixedClock(T0 + 30.2),
        snapshot_interval=0.05,
    )
