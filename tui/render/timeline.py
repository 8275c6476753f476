"""Where `flametop view` stands in a capture's time: the position the window ends at,
play/pause and speed. Pure state (no widgets), so stepping and playing are unit-tested
without an App. A position of None means "at the end" (the newest replayed sample)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

SPEEDS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
MIN_SPAN = 1.0  # the window never ends before one second after the first sample


@dataclass(frozen=True, slots=True)
class Timeline:
    first_t: float = 0.0
    last_t: float = 0.0
    position: float | None = None  # end of the window shown; None: at the end
    playing: bool = False
    speed: float = 1.0

    @property
    def span(self) -> float:
        return max(0.0, self.last_t - self.first_t)

    @property
    def has_time(self) -> bool:
        """False for a static profile (one batch without a duration to step through)."""
        return self.span > MIN_SPAN

    @property
    def at(self) -> float:
        """The time the window ends at, as a number."""
        return self.last_t if self.position is None else self.position

    @property
    def fraction(self) -> float:
        return (self.at - self.first_t) / self.span if self.span else 1.0

    def with_bounds(self, first_t: float, last_t: float) -> Timeline:
        return replace(self, first_t=first_t, last_t=last_t)

    def seek(self, t: float) -> Timeline:
        """Move the end of the window to `t`, clamped; at or past the end means "end"."""
        lo = min(self.last_t, self.first_t + MIN_SPAN)
        if t >= self.last_t:
            return replace(self, position=None, playing=False)
        return replace(self, position=max(lo, t))

    def step(self, seconds: float) -> Timeline:
        return self.seek(self.at + seconds)

    def seek_fraction(self, fraction: float) -> Timeline:
        return self.seek(self.first_t + max(0.0, min(1.0, fraction)) * self.span)

    def toggle_play(self) -> Timeline:
        if self.playing:
            return replace(self, playing=False)
        start = self if self.position is not None else self.seek(self.first_t)
        return replace(start, playing=True)

    def tick(self, wall_seconds: float) -> Timeline:
        """Advance a playing timeline by `wall_seconds` at its speed; stops at the end."""
        if not self.playing:
            return self
        moved = self.step(wall_seconds * self.speed)
        return moved if moved.position is not None else replace(moved, playing=False)

    def faster(self, direction: int) -> Timeline:
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else 1
        index = max(0, min(len(SPEEDS) - 1, index + direction))
        return replace(self, speed=SPEEDS[index])

    def label(self, compact: bool = False) -> str:
        """`▶ 0:12.0 / 1:00.0 ×2`: what the header shows; compact drops the span (the
        slider shows it). Paused is `||`: the pause sign (U+23F8) is missing from many
        terminal fonts and some draw it as a two-cell emoji."""
        mark = "▶" if self.playing else "||" if self.position is not None else "■"
        text = f"{mark} {clock(self.at - self.first_t)}"
        if not compact:
            text += f" / {clock(self.span)}"
        if self.playing or self.speed != 1.0:
            text += f" ×{self.speed:g}"
        return text


def clock(seconds: float) -> str:
    """Seconds as m:ss.s (h:mm:ss past an hour)."""
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        h, rest = divmod(int(seconds), 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}"
    m, s = divmod(seconds, 60.0)
    return f"{int(m)}:{s:04.1f}"


def utc(t: float) -> str:
    """Seconds since the epoch as a UTC wall-clock time (captures keep real times)."""
    try:
        return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return ""
