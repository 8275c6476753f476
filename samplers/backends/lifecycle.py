"""What every live sampler shares: the queue of finished batches, the end-of-sampling
event, the error list and the `on_news` hook the app's worker sleeps on."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from samplers.errors import FlametopError, UsageError
from samplers.model import FLAGS, MODES, Health, Mode, SampleBatch, SamplerState, SamplingOptions

MAX_ERRORS_KEPT = 20
RECENT_SECONDS = 5.0  # health's rate and coverage are over this much recent time, every backend


class SamplerLifecycle:
    """Base of the live samplers: state kept under one lock, batches handed over
    through a queue, and `on_news` called whenever there is something to read.

    Each backend declares what it can do (`supported_modes`, `supported_flags`), so a
    request it cannot serve is refused before anything starts (`check_supported`)."""

    label: ClassVar[str] = "live"  # as `--sampler` names it
    supported_modes: ClassVar[tuple[Mode, ...]] = MODES
    supported_flags: ClassVar[tuple[str, ...]] = FLAGS
    announces: ClassVar[bool] = True  # on_news is called (Sampler.announces)
    # True where batches are complete, so a mode switch applies at once (streaming)
    modes_are_views: ClassVar[bool] = False

    @classmethod
    def check_supported(cls, options: SamplingOptions) -> None:
        """UsageError (exit 2) naming the fix when this backend cannot sample so."""
        if options.mode not in cls.supported_modes:
            raise UsageError(
                f"the {cls.label} sampler has no {options.mode} mode: use --mode "
                f"{' or '.join(cls.supported_modes)}"
            )
        for flag in options.flags:
            if flag not in cls.supported_flags:
                raise UsageError(f"the {cls.label} sampler has no --{flag}: drop it")

    def __init__(self) -> None:
        self._queue: queue.Queue[SampleBatch] = queue.Queue()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._errors: list[str] = []
        self._state: SamplerState = "starting"
        self.error: FlametopError | None = None  # why sampling stopped, when it failed
        # Called from the sampler's thread when a batch is queued or sampling ends, so
        # the app's worker can sleep on its own event instead of polling.
        self.on_news: Callable[[], None] | None = None
        # health counters, guarded by _lock
        self._ticks = 0
        self._expected = 0.0
        self._t0: float | None = None
        self._t_last = 0.0
        self._gap_total = 0.0
        self._last_gap = 0.0
        self._chunks = 0
        self._restarts = 0
        self._own_cpu = 0.0
        # (end, instants taken, instants asked for) of recent accounting, newest last
        self._accounted: deque[tuple[float, float, float]] = deque()

    def _count(self, t_end: float, ticks: int, expected: float) -> None:
        """Account `ticks` taken of `expected` asked for, up to `t_end`; under the lock."""
        self._ticks += ticks
        self._expected += expected
        self._accounted.append((t_end, ticks, expected))
        while len(self._accounted) > 1 and self._accounted[0][0] < t_end - RECENT_SECONDS:
            self._accounted.popleft()

    def _health(self, rate: float) -> Health:
        """The counters as a Health, read under the lock; `rate` is the asked rate."""
        with self._lock:
            # over the last seconds, not since start: a run that lost samples a minute
            # ago does not read as lossy now
            ticks = sum(r[1] for r in self._accounted)
            asked = sum(r[2] for r in self._accounted)
            return Health(
                rate=rate,
                achieved_rate=rate * ticks / asked if asked > 0 else 0.0,
                coverage=ticks / asked if asked > 0 else 0.0,
                samples=self._ticks,
                expected=self._expected,
                gap_seconds_total=self._gap_total,
                last_gap_seconds=self._last_gap,
                chunks=self._chunks,
                restarts=self._restarts,
                errors=tuple(self._errors),
                own_cpu_seconds=self._own_cpu,
                state=self._state,
                backend="py-spy CLI",
                idle_unseen=self.options.mode != "wall",
            )

    @property
    def health(self) -> Health:
        raise NotImplementedError

    @property
    def options(self) -> SamplingOptions:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def configure(self, options: SamplingOptions) -> None:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        return self._done.is_set() and self._queue.empty()

    def poll(self, timeout: float) -> SampleBatch | None:
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)
            del self._errors[:-MAX_ERRORS_KEPT]

    def _finish(self, state: SamplerState, error: FlametopError | None = None) -> None:
        with self._lock:
            self._state = state
        if error is not None:
            self.error = error
            self._note_error(error.message)
        self._done.set()
        if self.on_news is not None:
            self.on_news()
