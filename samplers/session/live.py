"""The sampling loop: owns the sampler and the StackTree on one worker thread.

The UI never touches either. It sends requests (the view to show, a mode change, a
reset) through small lock-protected fields, and receives `LoopUpdate`s — frozen values
carrying an immutable Snapshot — through a publish callback (the app posts them as
messages). Every error is caught and published: the loop never dies of a sampler fault.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from samplers.model import (
    Health,
    Metadata,
    Profile,
    SampleBatch,
    Sampler,
    SamplingOptions,
    SystemReading,
)
from samplers.tree.snapshot import Snapshot, View

MAX_KEPT_BATCHES = 20_000  # about 5.5 hours of 1 s chunks
MAX_KEPT_READINGS = 20_000
ERROR_BACKOFF_S = 1.0
MAX_DRAIN = 200  # batches folded in before the next snapshot at most
WAKE_SLICE = 0.02  # a sampler that does not announce is polled this often at most
STATUS_INTERVAL = 1.0  # health-only updates (no new snapshot) at most this often
MAX_SLEEP = 1.0  # the loop looks around at least this often (stop, finished target)


class Tree(Protocol):
    """What the loop needs of samplers.tree.stacktree.StackTree."""

    def add(self, batch: SampleBatch) -> None: ...
    def snapshot(self, view: View) -> Snapshot: ...
    def reset(self) -> None: ...
    def set_health(self, health: Health) -> None: ...
    def add_reading(self, reading: SystemReading) -> None: ...


class Monitor(Protocol):
    def read(self) -> SystemReading: ...


@dataclass(frozen=True, slots=True)
class LoopUpdate:
    """What the loop tells the UI. `snapshot` is None for status-only updates."""

    view: View  # the view the snapshot was built for
    snapshot: Snapshot | None
    health: Health
    all_samples: int  # samples received since start (never reset)
    batch_mode: str | None  # mode of the newest batch
    finished: bool  # no more batches will come
    errors: tuple[str, ...] = ()  # new errors since the last update


@dataclass(slots=True)
class _Progress:
    """The loop's own bookkeeping between turns (worker thread only)."""

    built_version: int = -1  # view version of the last snapshot built
    last_build: float = 0.0
    last_status: float = 0.0
    last_reading: float = float("-inf")
    all_samples: int = 0
    batch_mode: str | None = None
    dirty: bool = False  # samples arrived since the last snapshot
    new_reading: bool = False  # a system reading arrived since the last snapshot
    finished_told: bool = False
    errors: list[str] = field(default_factory=list)


class SamplingLoop:
    def __init__(
        self,
        sampler: Sampler,
        tree: Tree,
        *,
        monitor: Monitor | None = None,
        snapshot_interval: float = 0.25,
        reading_interval: float = 1.0,
        poll_timeout: float = 0.1,
        max_batches: int = MAX_KEPT_BATCHES,
        started: bool = False,
    ) -> None:
        self.sampler = sampler
        self._tree = tree
        self._monitor = monitor
        self._snapshot_interval = snapshot_interval
        self._reading_interval = reading_interval
        self._poll_timeout = poll_timeout
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.done = threading.Event()  # set when run() has returned and the sampler stopped
        # requests from the UI (under _lock)
        self._view = View()
        self._view_version = 0
        self._options = sampler.options  # as last asked for (applied by the worker)
        self._configure: SamplingOptions | None = None
        self._reset = False
        # what was received (under _lock) for captures
        self._batches: deque[SampleBatch] = deque(maxlen=max_batches)
        self._readings: deque[SystemReading] = deque(maxlen=MAX_KEPT_READINGS)
        self._dropped_batches = 0
        self._health = Health()
        self._started = started  # True: the caller already ran sampler.start()
        # A sampler that says when a batch arrives (Sampler.announces) lets the loop
        # sleep on `_wake` alone instead of blocking in poll() between batches.
        self._event_driven = sampler.announces
        if self._event_driven:
            sampler.on_news = self._wake.set

    # -- requests from the UI thread --------------------------------------------------

    def request_view(self, view: View) -> None:
        with self._lock:
            self._view = view
            self._view_version += 1
        self._wake.set()

    @property
    def options(self) -> SamplingOptions:
        """The sampling options last asked for: change one with `replace` and
        request_configure."""
        with self._lock:
            return self._options

    def request_configure(self, options: SamplingOptions) -> None:
        with self._lock:
            self._options = self._configure = options
        self._wake.set()

    def request_reset(self, view: View) -> None:
        with self._lock:
            self._reset = True
            self._view = view
            self._view_version += 1
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def capture(self, metadata: Metadata) -> Profile:
        """Everything received so far (bounded: the oldest batches go first)."""
        with self._lock:
            batches = tuple(self._batches)
            readings = tuple(self._readings)
            health = self._health
            dropped = self._dropped_batches
        if dropped:
            extra = (*metadata.extra, ("dropped_oldest_batches", str(dropped)))
            metadata = _with_extra(metadata, extra)
        return Profile(metadata=metadata, batches=batches, readings=readings, health=health)

    # -- the loop (worker thread) -------------------------------------------------------

    def run(self, publish: Callable[[LoopUpdate], None], cancelled: Callable[[], bool]) -> None:
        try:
            self._run(publish, lambda: cancelled() or self._stop.is_set())
        finally:
            try:
                if self._started:
                    self.sampler.stop()
            except Exception:  # noqa: BLE001 - stopping must not raise into the UI
                pass
            self.done.set()

    def _run(self, publish: Callable[[LoopUpdate], None], cancelled: Callable[[], bool]) -> None:
        st = _Progress()
        if not self._started:
            try:
                self.sampler.start()
                self._started = True
            except Exception as exc:  # noqa: BLE001
                st.errors.append(_describe(exc))
        while not cancelled():
            try:
                self._step(st, publish)
            except Exception as exc:  # noqa: BLE001 - a bug in one step must not end sampling
                st.errors.append(f"internal error: {_describe(exc)}")
                self._wake.wait(ERROR_BACKOFF_S)
                self._wake.clear()

    def _step(self, st: _Progress, publish: Callable[[LoopUpdate], None]) -> None:
        """One turn: wait for news, apply requests, fold new batches and readings, maybe
        publish."""
        finished = self._finished()
        polling = self._started and not finished
        # Wait first and read the requests after: a request made while we waited is
        # answered in this turn, not the next one.
        batches = self._wait_for_news(st, polling)
        with self._lock:
            view, version = self._view, self._view_version
            configure, self._configure = self._configure, None
            reset, self._reset = self._reset, False
        if configure is not None:
            try:
                self.sampler.configure(configure)
            except Exception as exc:  # noqa: BLE001
                st.errors.append(_describe(exc))
        if reset:
            self._tree.reset()
            st.dirty = True
        for batch in batches:
            self._tree.add(batch)
            st.all_samples += batch.count
            st.batch_mode = batch.mode
            st.dirty = True
            with self._lock:
                if len(self._batches) == self._batches.maxlen:
                    self._dropped_batches += 1
                self._batches.append(batch)
        now = time.monotonic()
        # a gone target has nothing left to read
        if (
            self._monitor is not None
            and not finished
            and now - st.last_reading >= self._reading_interval
        ):
            st.last_reading = now
            try:
                reading = self._monitor.read()
            except Exception as exc:  # noqa: BLE001
                st.errors.append(_describe(exc))
            else:
                self._tree.add_reading(reading)
                with self._lock:
                    self._readings.append(reading)
                st.new_reading = True
        health = self._read_health()
        st.errors.extend(e for e in health.errors[-3:] if e not in self._health.errors)
        with self._lock:
            self._health = health
        self._tree.set_health(health)
        finished = self._finished()
        announce_end = finished and not st.finished_told
        live = view.end_t is None
        since_build = now - st.last_build
        # New samples show at most every snapshot_interval; a reading alone (the rails)
        # only when no samples brought it along for a reading interval: py-spy delivers
        # about one batch a second, so that is about one snapshot a second, not two.
        stale = st.dirty or (st.new_reading and since_build >= self._reading_interval)
        snapshot: Snapshot | None = None
        if (
            version != st.built_version
            or (live and stale and since_build >= self._snapshot_interval)
            or announce_end
        ):
            # Mark the view built first: a snapshot that fails is reported once, not retried
            # on every turn.
            st.built_version, st.last_build, st.dirty = version, now, False
            st.new_reading = False
            try:
                snapshot = self._tree.snapshot(view)
            except Exception as exc:  # noqa: BLE001
                st.errors.append(_describe(exc))
        if (
            snapshot is None
            and not st.errors
            and not announce_end
            and now - st.last_status < STATUS_INTERVAL
        ):
            return
        st.last_status = now
        st.finished_told = st.finished_told or finished
        errors, st.errors = tuple(st.errors), []
        publish(
            LoopUpdate(
                view=view,
                snapshot=snapshot,
                health=health,
                all_samples=st.all_samples,
                batch_mode=st.batch_mode,
                finished=finished,
                errors=errors,
            )
        )

    def _wait_for_news(self, st: _Progress, polling: bool) -> list[SampleBatch]:
        """Sleep until something may need doing, then take the batches that arrived.

        A request from the UI (request_view & co.) sets `_wake` and ends the wait at once.
        A sampler that announces (calls `on_news`) sets it too when a batch arrives,
        so the loop sleeps until then or until a reading or status is due, without
        waking up to ask. Other samplers are polled in short slices, checking `_wake`."""
        if not polling:
            self._wake.wait(self._poll_timeout)
            self._wake.clear()
            return []
        if not self._event_driven:
            got = self._poll_batches(st.errors, self._poll_timeout)
            self._wake.clear()
            return got
        now = time.monotonic()
        due = [st.last_status + STATUS_INTERVAL]
        if self._monitor is not None:
            due.append(st.last_reading + self._reading_interval)
        # mirrors the snapshot rule in _step
        if st.dirty:
            due.append(st.last_build + self._snapshot_interval)
        elif st.new_reading:
            due.append(st.last_build + max(self._snapshot_interval, self._reading_interval))
        self._wake.wait(min(MAX_SLEEP, max(0.0, min(due) - now)))
        self._wake.clear()
        return self._poll_batches(st.errors, 0.0)

    def _poll_batches(self, errors: list[str], timeout: float) -> list[SampleBatch]:
        """Batches waiting (a burst after a slow snapshot), after up to `timeout` seconds
        for the first; the wait ends early when the UI asks for something."""
        got: list[SampleBatch] = []
        deadline = time.monotonic() + timeout
        while len(got) < MAX_DRAIN:
            asked = got or self._wake.is_set()
            wait = 0.0 if asked else max(0.0, deadline - time.monotonic())
            try:
                batch = self.sampler.poll(min(wait, WAKE_SLICE))
            except Exception as exc:  # noqa: BLE001
                errors.append(_describe(exc))
                self._wake.wait(ERROR_BACKOFF_S)
                self._wake.clear()
                break
            if batch is not None:
                got.append(batch)
            elif asked or self._wake.is_set() or time.monotonic() >= deadline:
                break
        return got

    def _finished(self) -> bool:
        try:
            return bool(self.sampler.finished)
        except Exception:  # noqa: BLE001
            return False

    def _read_health(self) -> Health:
        try:
            return self.sampler.health
        except Exception as exc:  # noqa: BLE001
            return Health(errors=(_describe(exc),), state="failed")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


def _with_extra(metadata: Metadata, extra: tuple[tuple[str, str], ...]) -> Metadata:
    from dataclasses import replace

    return replace(metadata, extra=extra)
