"""ReplaySampler: plays a saved Profile's batches back as if they were being sampled now.

Used by `flametop view`, the demo, tests and benchmarks. Batch i is handed out once the
replay position has reached its end time: position = (clock time since start) x speed,
measured from the first batch's start. `speed=0` hands everything out as fast as it is
polled. With an injected FakeClock nothing ever sleeps for real.

Timestamps are kept as recorded (a replay of a capture shows the capture's times); each
further pass of a looping replay is shifted by the profile's duration so time keeps
moving forward for the stack tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import ClassVar

from samplers.backends.pyspy_run import estimate_ticks
from samplers.backends.synthetic import synthetic_batches, synthetic_profile
from samplers.clock import Clock, RealClock
from samplers.errors import UsageError
from samplers.model import (
    MODES,
    Health,
    Mode,
    Profile,
    SampleBatch,
    SamplerState,
    SamplingOptions,
    SystemReading,
)

__all__ = ["ReplaySampler", "synthetic_batches", "synthetic_profile"]


class ReplaySampler:
    """A Sampler over a Profile (see samplers.model.Sampler)."""

    announces: ClassVar[bool] = False  # batches are due by the clock: polled
    modes_are_views: ClassVar[bool] = False

    def __init__(
        self,
        profile: Profile,
        speed: float = 1.0,
        *,
        clock: Clock | None = None,
        loop: bool = False,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0: as fast as possible)")
        self._batches = tuple(sorted(profile.batches, key=lambda b: b.t_end))
        self._readings = tuple(sorted(profile.readings, key=lambda r: r.t))
        self._clock: Clock = clock or RealClock()
        self._speed = speed
        self._loop = loop
        self._origin = self._batches[0].t_start if self._batches else 0.0
        end = max((b.t_end for b in self._batches), default=self._origin)
        self._duration = max(end - self._origin, 1e-9)
        self._rate = profile.metadata.rate or (self._batches[0].rate if self._batches else 100.0)
        self._options = _options_of(profile, self._rate)
        self.on_news: Callable[[], None] | None = None  # never called: announces is False
        self._next = 0  # index of the next batch within the current pass
        self._pass = 0
        self._reading_next = 0
        self._reading_pass = 0
        self._state: SamplerState = "starting"
        self._wall0 = 0.0  # clock time at which the position was _pos0
        self._pos0 = 0.0  # replay position, profile seconds since the first batch
        # What has been replayed, for health.
        self._samples = 0
        self._expected = 0.0
        self._gap_total = 0.0
        self._last_gap = 0.0
        self._chunks = 0
        self._prev_end: float | None = None
        self._replayed_to = self._origin

    # ---- Sampler protocol ---------------------------------------------------------

    @property
    def health(self) -> Health:
        span = self._replayed_to - self._origin
        return Health(
            rate=self._rate,
            achieved_rate=self._samples / span if span > 0 else 0.0,
            coverage=self._samples / self._expected if self._expected > 0 else 0.0,
            samples=self._samples,
            expected=self._expected,
            gap_seconds_total=self._gap_total,
            last_gap_seconds=self._last_gap,
            chunks=self._chunks,
            state=self._state,
        )

    @property
    def finished(self) -> bool:
        return self._state in ("target-exited", "stopped", "failed")

    def start(self) -> None:
        if self._state != "starting":
            return
        self._wall0 = self._clock.time()
        self._pos0 = 0.0
        self._state = "running" if self._batches else "target-exited"

    def stop(self) -> None:
        self._state = "stopped"

    def poll(self, timeout: float) -> SampleBatch | None:
        if self._state != "running":
            return None
        deadline = self._clock.time() + max(0.0, timeout)
        while True:
            batch = self._batches[self._next]
            due = batch.t_end - self._origin + self._pass * self._duration
            now = self._clock.time()
            position = self._position(now)
            if position >= due:
                return self._emit(batch)
            wait = (due - position) / self._speed  # speed > 0 here: speed 0 is always due
            if now >= deadline:
                return None
            self._clock.sleep(min(wait, deadline - now))

    @property
    def options(self) -> SamplingOptions:
        return self._options

    def configure(self, options: SamplingOptions) -> None:
        """Sampling options describe how a capture was taken and cannot change
        afterwards: ignored (set_speed and set_loop change the replay)."""

    def set_speed(self, speed: float) -> None:
        """Play on at `speed` (0: as fast as polled) from the current position."""
        if speed < 0:
            raise ValueError("speed must be a number >= 0")
        now = self._clock.time()
        self._pos0 = self._position(now)  # keep the position, change the pace
        self._wall0 = now
        self._speed = float(speed)

    def set_loop(self, loop: bool) -> None:
        self._loop = loop

    # ---- extras -------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    def readings(self) -> tuple[SystemReading, ...]:
        """The profile's system readings up to what has been replayed, each once."""
        if not self._readings:
            return ()
        out: list[SystemReading] = []
        while True:
            if self._reading_next >= len(self._readings):
                if self._reading_pass >= self._pass:
                    break
                self._reading_pass += 1
                self._reading_next = 0
            r = self._readings[self._reading_next]
            shift = self._reading_pass * self._duration
            if r.t + shift > self._replayed_to:
                break
            out.append(replace(r, t=r.t + shift) if shift else r)
            self._reading_next += 1
        return tuple(out)

    def __iter__(self) -> Iterator[SampleBatch]:
        """Every remaining batch, polling with a one-second timeout."""
        self.start()
        while not self.finished:
            batch = self.poll(1.0)
            if batch is not None:
                yield batch

    # ---- internals ----------------------------------------------------------------

    def _position(self, now: float) -> float:
        if self._speed == 0:
            return float("inf")
        return self._pos0 + (now - self._wall0) * self._speed

    def _emit(self, batch: SampleBatch) -> SampleBatch:
        shift = self._pass * self._duration
        if shift:
            batch = replace(batch, t_start=batch.t_start + shift, t_end=batch.t_end + shift)
        self._next += 1
        if self._next >= len(self._batches):
            if self._loop:
                self._next = 0
                self._pass += 1
            else:
                self._state = "target-exited"
        # Ticks, not stacks, as PySpySampler counts them (capped at the ticks asked for):
        # a tick of N busy threads gives N stacks, and coverage must not read N × 100%.
        ticks = estimate_ticks(batch.samples, batch.mode)
        self._samples += min(ticks, round(batch.expected)) if batch.expected > 0 else ticks
        self._expected += batch.expected
        self._chunks += 1
        if self._prev_end is not None:
            self._last_gap = max(0.0, batch.t_start - self._prev_end)
            self._gap_total += self._last_gap
        self._prev_end = batch.t_end
        self._replayed_to = max(self._replayed_to, batch.t_end)
        return batch


def _options_of(profile: Profile, rate: float) -> SamplingOptions:
    """How the capture says it was taken, as far as it says (defaults otherwise)."""
    mode: Mode = next((m for m in MODES if m == profile.metadata.mode), "cpu")
    try:
        return SamplingOptions(mode=mode, rate=rate)
    except UsageError:  # a foreign file's rate outside ours: keep the mode
        return SamplingOptions(mode=mode)
