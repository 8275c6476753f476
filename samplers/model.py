"""Immutable value types shared by the samplers, the stack tree, the formats and the UI.

Everything here is a frozen dataclass: batches and profiles cross threads and are never
mutated after construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Literal, Protocol

Mode = Literal["cpu", "wall", "gil"]
MODES: tuple[Mode, ...] = ("cpu", "wall", "gil")


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
    """`count` samples of one stack (root first) seen on one thread ("" when unknown)."""

    thread: str
    stack: Stack
    count: int


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

    @property
    def count(self) -> int:
        return sum(s.count for s in self.samples)

    @property
    def expected(self) -> float:
        """Samples that were asked for over this batch's wall time."""
        return max(0.0, self.t_end - self.t_start) * self.rate


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


SamplerState = Literal["starting", "running", "target-exited", "failed", "stopped"]


@dataclass(frozen=True, slots=True)
class Health:
    """The sampler's own account of how well it is doing."""

    rate: float = 100.0  # asked Hz
    achieved_rate: float = 0.0  # samples per wall second since start
    coverage: float = 0.0  # samples received / (rate * wall time), 0..1 (may exceed 1 slightly)
    samples: int = 0
    expected: float = 0.0
    gap_seconds_total: float = 0.0  # wall time not covered by any chunk
    last_gap_seconds: float = 0.0
    chunks: int = 0
    restarts: int = 0
    errors: tuple[str, ...] = ()  # most recent last
    own_cpu_seconds: float = 0.0  # CPU of the sampler's child processes
    state: SamplerState = "starting"


class Sampler(Protocol):
    """What the app and `record` need of a sampler. One thread owns it."""

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

    def configure(self, **options: object) -> None:
        """Change mode/rate/threads/native/... from the next chunk on."""
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

    def merged(self) -> tuple[Sample, ...]:
        """All batches folded into one count per (thread, stack), in first-seen order."""
        return merge_samples(s for b in self.batches for s in b.samples)


def merge_samples(samples: Iterable[Sample]) -> tuple[Sample, ...]:
    counts: dict[tuple[str, Stack], int] = {}
    for s in samples:
        key = (s.thread, s.stack)
        counts[key] = counts.get(key, 0) + s.count
    return tuple(Sample(t, st, c) for (t, st), c in counts.items())
