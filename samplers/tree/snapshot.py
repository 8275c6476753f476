"""The immutable view of the stack tree that crosses from the worker thread to the UI.

`View` says what to show (window, thread, filter, zoom, line granularity); `StackTree.snapshot`
answers with a `Snapshot`. Widgets render a Snapshot and never touch the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from samplers.model import Frame, Health, Mode, SystemReading


@dataclass(frozen=True, slots=True)
class View:
    """What the user asked to see."""

    window_s: float | None = 30.0  # None: everything since start
    end_t: float | None = None  # None: live (the newest sample); else the window ends here
    thread: str | None = None  # None: all threads; else a substring or regex of the thread name
    process: int | None = None  # None: every process; else only the samples of this pid
    filter: str | None = None  # substring or regex over function and file names
    zoom: tuple[Frame, ...] = ()  # path from the root to the icicle frame zoomed into
    by_line: bool = False  # True: functions are told apart by line as well
    baseline: tuple[float, float] | None = None  # (t_start, t_end) of a baseline window
    mode: Mode | None = None  # cpu / wall / gil (ModeTrees); None: the sampler's mode


@dataclass(frozen=True, slots=True)
class FunctionStat:
    """One row of the top-functions table. Counts are samples in the window."""

    key: Frame  # function identity: line is 0 unless View.by_line
    own: int
    total: int  # stacks containing the function, recursion counted once
    own_seconds: float
    total_seconds: float
    history: tuple[float, ...]  # share (0..1) of each second's samples, oldest first
    delta_total: float | None = None  # change of %Total in points vs the baseline


class ProcessStat(NamedTuple):
    """One process in the window: what the process chooser lists."""

    pid: int  # 0: the sampler could not tell
    label: str  # "pid cmdline"
    samples: int


class ThreadStat(NamedTuple):
    """One thread in the window (of View.process when set): what `t` lists."""

    pid: int
    name: str
    samples: int
    active: float | None = None  # share of its samples (all modes) in which it ran


@dataclass(frozen=True, slots=True)
class CallNode:
    """A node of the merged call tree (the icicle). The root has frame None ("all")."""

    frame: Frame | None
    total: int
    own: int
    children: tuple[CallNode, ...]  # largest first
    delta: float | None = None  # change of share in points vs the baseline

    @property
    def name(self) -> str:
        return "all" if self.frame is None else self.frame.label()


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int  # increases with every snapshot the tree builds
    view: View
    t_start: float  # time span of the window shown
    t_end: float
    first_t: float  # first sample ever (for sliders)
    last_t: float  # newest sample received
    total_samples: int  # in the window, after thread filter (before function filter)
    functions: tuple[FunctionStat, ...]  # sorted by own, descending
    root: CallNode  # zoomed root when View.zoom is set
    # (thread name, samples) in the window, of View.process when set; the name has its
    # " (pid N)" when the window holds several processes
    threads: tuple[tuple[str, int], ...]
    rate: float  # asked Hz, to turn counts into seconds
    mode: str
    health: Health | None = None
    readings: tuple[SystemReading, ...] = ()  # newest last, over the window
    all_samples: int = 0  # ever received, including evicted buckets
    processes: tuple[ProcessStat, ...] = ()  # in the window, every process, most first
    thread_stats: tuple[ThreadStat, ...] = ()  # `threads` with their pids and active shares
