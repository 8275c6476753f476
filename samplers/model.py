"""Immutable value types shared by the samplers, the stack tree, the formats and the UI.

Everything here is a frozen dataclass: batches and profiles cross threads and are never
mutated after construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import ClassVar, Literal, Protocol

from samplers.errors import UsageError

Mode = Literal["cpu", "wall", "gil"]
MODES: tuple[Mode, ...] = ("cpu", "wall", "gil")
MIN_RATE = 1.0
MAX_RATE = 1000.0  # py-spy's sampler cannot keep up beyond this (bench: 95% at 1000 Hz)
# The on/off sampling options, by the name of their flag (`--threads` is "threads").
FLAGS = ("threads", "native", "subprocesses", "nonblocking")


@dataclass(frozen=True, slots=True)
class SamplingOptions:
    """How to sample, checked once when built: the CLI makes one from its arguments and
    every backend takes it whole (a change is a `dataclasses.replace`d copy).

    threads: a root frame per thread; native: C frames too; subprocesses: the target's
    children too; nonblocking: read the target without pausing it."""

    mode: Mode = "cpu"
    rate: float = 100.0
    threads: bool = False
    native: bool = False
    subprocesses: bool = False
    nonblocking: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise UsageError(
                f"rate must be {MIN_RATE:.0f}-{MAX_RATE:.0f} Hz, not {self.rate!r}: "
                "give --rate within it"
            )

    @property
    def flags(self) -> tuple[str, ...]:
        """The on/off options that are on, e.g. ("threads", "native")."""
        return tuple(name for name in FLAGS if getattr(self, name))


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a Python stack. `line` is 0 when unknown; `file` may be ""."""

    function: str
    file: str = ""
    line: int = 0

    def label(self, with_line: bool = True) -> str:
        """`function (file:line)` as py-spy prints it, or `function (file)` without lines."""
        if not self.file:
            return self.function
        if with_line and self.line:
            return f"{self.function} ({self.file}:{self.line})"
        return f"{self.function} ({self.file})"


Stack = tuple[Frame, ...]  # root first


@dataclass(frozen=True, slots=True)
class Sample:
    """`count` samples of one stack (root first) seen on one thread ("" when unknown).

    From a sampler that reads every thread at once (SampleBatch.complete), `active` says
    whether the thread was running and `gil` whether it held the GIL; `pid` is the
    process (0: unknown)."""

    thread: str
    stack: Stack
    count: int
    pid: int = 0
    active: bool = True
    gil: bool = False


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """What one sampler poll produced: samples taken between t_start and t_end
    (seconds since the epoch), at `rate` Hz asked, in `mode`."""

    t_start: float
    t_end: float
    samples: tuple[Sample, ...]
    mode: Mode = "cpu"
    rate: float = 100.0
    notes: tuple[str, ...] = ()
    # True: every thread was read at each instant, idle ones included, with its
    # active/gil flags, so cpu, wall and gil are all views of these samples (`view`).
    complete: bool = False

    def view(self, mode: Mode) -> SampleBatch | None:
        """This batch as seen in `mode`: a complete batch filtered (cpu: active threads,
        gil: the GIL holder, wall: all); another batch only in the mode it was taken in."""
        if not self.complete:
            return self if self.mode == mode else None
        if mode == "wall":
            samples = self.samples
        elif mode == "cpu":
            samples = tuple(s for s in self.samples if s.active)
        else:
            samples = tuple(s for s in self.samples if s.gil)
        return SampleBatch(self.t_start, self.t_end, samples, mode, self.rate, self.notes)

    @property
    def count(self) -> int:
        return sum(s.count for s in self.samples)

    @property
    def expected(self) -> float:
        """Samples that were asked for over this batch's wall time."""
        return max(0.0, self.t_end - self.t_start) * self.rate


@dataclass(frozen=True, slots=True)
class ProcessReading:
    """CPU, memory and threads of one process of the target's tree. None: not read."""

    pid: int
    cpu_percent: float | None = None
    rss_bytes: int | None = None
    threads: int | None = None


@dataclass(frozen=True, slots=True)
class SystemReading:
    """One psutil reading of the target and of flametop itself. None: not available."""

    t: float
    cpu_percent: float | None = None
    rss_bytes: int | None = None
    threads: int | None = None
    io_bytes_per_s: float | None = None
    ctx_switches_per_s: float | None = None
    self_cpu_percent: float | None = None  # flametop plus its py-spy children
    # The target (first) and each of its descendants: rails per process, or summed
    # over the tree, with --subprocesses; "children are busy" without it.
    processes: tuple[ProcessReading, ...] = ()


SamplerState = Literal["starting", "running", "target-exited", "failed", "stopped"]


@dataclass(frozen=True, slots=True)
class Health:
    """The sampler's own account of how well it is doing."""

    rate: float = 100.0  # asked Hz
    achieved_rate: float = 0.0  # instants sampled per second, over the last few seconds
    coverage: float = 0.0  # instants sampled / asked for, recently, 0..1 (may exceed 1 slightly)
    samples: int = 0
    expected: float = 0.0
    gap_seconds_total: float = 0.0  # wall time not covered by any chunk
    last_gap_seconds: float = 0.0
    chunks: int = 0
    restarts: int = 0
    errors: tuple[str, ...] = ()  # most recent last
    own_cpu_seconds: float = 0.0  # CPU of the sampler's child processes
    state: SamplerState = "starting"
    late: int = 0  # samples taken after their slot (the sampler fell behind)
    sampling_errors: int = 0  # instants at which a process could not be read
    backend: str = ""  # e.g. "py-spy 0.4.3 in-process" or "py-spy CLI"
    gil_held: float | None = None  # share of recent instants some thread held the GIL
    active_threads: float | None = None  # threads running per instant, recently
    # True where idle instants are not seen at all (py-spy's CLI in cpu and gil mode):
    # coverage then counts only on-CPU / GIL-holding instants and is no loss figure
    idle_unseen: bool = False


class Sampler(Protocol):
    """What the app and `record` need of a sampler. One thread owns it.

    `announces`: the sampler calls `on_news` (from its own thread) whenever a batch is
    queued or sampling ends, so its owner can sleep until then instead of polling.
    `modes_are_views`: its batches are complete, so a mode change applies at once, to
    the past too."""

    announces: ClassVar[bool]
    modes_are_views: ClassVar[bool]
    on_news: Callable[[], None] | None

    @property
    def options(self) -> SamplingOptions:
        """The options sampling runs with (or will, from the next chunk)."""
        ...

    @property
    def health(self) -> Health: ...

    @property
    def finished(self) -> bool:
        """True once no more batches will come (target exited, replay ended, stopped)."""
        ...

    def start(self) -> None: ...

    def poll(self, timeout: float) -> SampleBatch | None:
        """Block up to `timeout` seconds for the next batch; None if none arrived."""
        ...

    def stop(self) -> None: ...

    def configure(self, options: SamplingOptions) -> None:
        """Sample with `options` from now (or the next chunk) on."""
        ...


@dataclass(frozen=True, slots=True)
class Metadata:
    """Provenance written into every artifact that can carry it."""

    flametop_version: str = ""
    sampler: str = ""  # e.g. "py-spy 0.4.3"
    rate: float = 0.0
    mode: str = ""
    start_time: str = ""  # ISO 8601, UTC
    duration_s: float = 0.0
    host: str = ""
    pid: int | None = None
    cmdline: tuple[str, ...] = ()
    python_version: str = ""
    git_commit: str = ""
    git_branch: str = ""  # "" when detached or not in a repository
    kernel_release: str = ""  # uname -r of the host that sampled
    build_id: str = ""  # GNU build-id (hex) of the target's interpreter or its libpython
    source_format: str = ""  # the format a profile was read from
    extra: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        """Non-empty fields as strings, for formats that carry key/value text."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                out.update(dict(value))
            elif f.name == "cmdline":
                if value:
                    out["cmdline"] = " ".join(value)
            elif value not in (None, "", 0, 0.0):
                out[f.name] = str(value)
        return out


@dataclass(frozen=True, slots=True)
class Profile:
    """An in-memory profile: what every format reads into and writes from."""

    metadata: Metadata
    batches: tuple[SampleBatch, ...]
    readings: tuple[SystemReading, ...] = ()
    health: Health | None = field(default=None)

    @property
    def total(self) -> int:
        return sum(b.count for b in self.batches)

    def in_mode(self, mode: str | None = None) -> Profile:
        """This profile as seen in `mode` (default: its metadata's): complete batches
        filtered, batches of other modes left out. Unchanged when nothing is complete."""
        if not any(b.complete for b in self.batches):
            return self
        asked = mode or self.metadata.mode
        wanted: Mode = next((m for m in MODES if m == asked), "cpu")
        seen = (b.view(wanted) for b in self.batches)
        kept = tuple(b for b in seen if b is not None)
        return Profile(replace(self.metadata, mode=wanted), kept, self.readings, self.health)

    def merged(self) -> tuple[Sample, ...]:
        """All batches folded into one count per (pid, thread, stack), in first-seen order."""
        return merge_samples(s for b in self.batches for s in b.samples)


def merge_samples(samples: Iterable[Sample]) -> tuple[Sample, ...]:
    # the pid stays: five processes' MainThreads are five threads
    counts: dict[tuple[int, str, Stack], int] = {}
    for s in samples:
        key = (s.pid, s.thread, s.stack)
        counts[key] = counts.get(key, 0) + s.count
    return tuple(Sample(t, st, c, pid) for (pid, t, st), c in counts.items())
