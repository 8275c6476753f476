"""The screen of `flametop view`: the live App of `top`, fed by a ReplaySampler, with a
timeline instead of a live edge.

The replay hands the whole capture to the stack tree as fast as it can; the user then
moves the end of the window through time (slider, `[` `]`, shift+←/→) or plays it back
(space) at a chosen speed. A baseline profile from another file lives in its own
StackTree; `ViewTree` asks the main tree for deltas against it while the view's baseline
is the `FILE_BASELINE` marker, so `b` still works as in `top` (clear, then a window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget

from samplers.model import Health, Metadata, Profile, SampleBatch, Sampler, SystemReading
from samplers.tree.snapshot import Snapshot, View
from samplers.tree.stacktree import StackTree
from tui.app import FlametopApp, SnapshotReady
from tui.keys import help_rows
from tui.render.timeline import Timeline
from tui.widgets.header import FlametopHeader
from tui.widgets.help import HelpScreen
from tui.widgets.time_slider import TimeSlider

# View.baseline holds a time window of the shown tree; this value, which no window can
# have, means "the baseline file" instead.
FILE_BASELINE: tuple[float, float] = (float("-inf"), float("-inf"))
TICK_S = 0.25
WIDE_HEADER = 100  # columns from which the header's badge shows position / span

VIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("p / space", "view: play / pause the capture from the position shown"),
    ("[ ] / shift+← →", "view: step the end of the window back / forward 1 s"),
    ("{ }", "view: step back / forward 10 s"),
    ("< / >", "view: go to the start / the end of the capture (slider: home / end)"),
    ("+ / -", "view: play faster / slower"),
    ("slider", "view: focus it (tab) and use ← →, or click the bar"),
    ("b", "view: with --baseline, the first press clears the file baseline"),
)


class ViewTree:
    """A StackTree that also takes the capture's system readings as batches arrive, and
    compares against a separate baseline tree when asked to (see FILE_BASELINE)."""

    def __init__(
        self,
        tree: StackTree,
        readings: Callable[[], tuple[SystemReading, ...]] | None = None,
        baseline: StackTree | None = None,
    ) -> None:
        self.tree = tree
        self._readings = readings
        self._handed: list[SystemReading] = []  # appended by the worker, copied by saves
        self.baseline = baseline

    def add(self, batch: SampleBatch) -> None:
        self.tree.add(batch)
        if self._readings is not None:
            for reading in self._readings():
                self.tree.add_reading(reading)
                self._handed.append(reading)

    @property
    def readings(self) -> tuple[SystemReading, ...]:
        """The capture's readings replayed so far: what a snapshot saves with the batches."""
        return tuple(self._handed)

    def snapshot(self, view: View) -> Snapshot:
        if view.baseline == FILE_BASELINE:
            if self.baseline is None:
                return self.tree.snapshot(replace(view, baseline=None))
            snap = self.tree.snapshot(replace(view, baseline=None), baseline_of=self.baseline)
            return replace(snap, view=view)  # the table shows Δ when the view has a baseline
        return self.tree.snapshot(view)

    def reset(self) -> None:
        self.tree.reset()

    def set_health(self, health: Health) -> None:
        self.tree.set_health(health)

    def add_reading(self, reading: SystemReading) -> None:
        self.tree.add_reading(reading)


class ViewApp(FlametopApp):
    """FlametopApp over a replayed file: a timeline, no live-only actions."""

    BINDINGS = [
        Binding("right_square_bracket,shift+right", "step(1)", "+1 s", show=False),
        Binding("left_square_bracket,shift+left", "step(-1)", "-1 s", show=False),
        Binding("right_curly_bracket", "step(10)", "+10 s", show=False),
        Binding("left_curly_bracket", "step(-10)", "-10 s", show=False),
        Binding("less_than_sign", "seek(0)", "start", show=False),
        Binding("greater_than_sign", "seek(1)", "end", show=False),
        Binding("plus,equals_sign", "speed(1)", "faster", show=False),
        Binding("minus", "speed(-1)", "slower", show=False),
    ]

    def __init__(
        self,
        sampler: Sampler,
        tree: ViewTree,
        *,
        source: str,
        metadata: Metadata,
        timeline: bool,
        save_dir: str = "flametop-snapshots",
        window_s: float | None = None,
    ) -> None:
        self.view_tree = tree
        super().__init__(
            sampler,
            target=source,
            metadata=metadata,
            save_dir=save_dir,
            tree=tree,
            clock=self._replay_clock,
            window_s=window_s,
            finished_label="LOADED",
        )
        self._timeline = Timeline()
        self._has_timeline = timeline
        if tree.baseline is not None:
            self._view = replace(self._view, baseline=FILE_BASELINE)

    def _capture(self) -> Profile:
        # The sampling loop keeps only a live monitor's readings; a view's come from the
        # file, so `s` would save the batches without the rails.
        capture = super()._capture()
        if capture.readings:
            return capture
        return replace(capture, readings=self.view_tree.readings)

    def _replay_clock(self) -> float:
        # Latency and pause timing are measured against replayed time, not today's: the
        # newest sample the snapshots have shown (the tree itself is the worker's).
        return self._timeline.last_t

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    def compose(self) -> ComposeResult:
        widgets: list[Widget] = list(super().compose())
        at = next((i + 1 for i, w in enumerate(widgets) if isinstance(w, FlametopHeader)), 0)
        widgets.insert(at, TimeSlider(id="slider"))
        yield from widgets

    def on_mount(self) -> None:
        self.set_interval(TICK_S, self._play_tick)

    # -- the timeline -------------------------------------------------------------------

    @on(SnapshotReady)
    def _timeline_bounds(self, message: SnapshotReady) -> None:
        snap = message.update.snapshot
        if snap is not None and snap.total_samples >= 0 and snap.last_t >= snap.first_t:
            if (snap.first_t, snap.last_t) != (self._timeline.first_t, self._timeline.last_t):
                self._set_timeline(self._timeline.with_bounds(snap.first_t, snap.last_t))

    def _set_timeline(self, timeline: Timeline) -> None:
        moved = timeline.position != self._timeline.position
        self._timeline = timeline
        shown = timeline if self._has_timeline else Timeline()
        self.query_one(TimeSlider).timeline = shown
        if moved:
            self._set_view(replace(self._view, end_t=timeline.position))
        else:
            self._refresh_header()

    def _needs_time(self) -> bool:
        if not (self._has_timeline and self._timeline.has_time):
            self.notify("this profile has no timeline: it is one static batch", timeout=3)
            return False
        return True

    def _play_tick(self) -> None:
        if self._timeline.playing:
            self._set_timeline(self._timeline.tick(TICK_S))

    def action_pause(self) -> None:
        if self._needs_time():
            self._set_timeline(self._timeline.toggle_play())

    def action_step(self, seconds: float) -> None:
        if self._needs_time():
            self._set_timeline(replace(self._timeline.step(seconds), playing=False))

    def action_seek(self, fraction: float) -> None:
        if self._needs_time():
            self._set_timeline(replace(self._timeline.seek_fraction(fraction), playing=False))

    def action_speed(self, direction: int) -> None:
        if self._needs_time():
            self._set_timeline(self._timeline.faster(direction))
            self.notify(f"speed ×{self._timeline.speed:g}", timeout=2)

    @on(TimeSlider.Step)
    def _slider_step(self, message: TimeSlider.Step) -> None:
        self.action_step(message.seconds)

    @on(TimeSlider.Seek)
    def _slider_seek(self, message: TimeSlider.Seek) -> None:
        self.action_seek(message.fraction)

    # -- what differs from `top` ----------------------------------------------------------

    def _refresh_header(self) -> None:
        super()._refresh_header()
        header = self.query_one(FlametopHeader)
        if self._has_timeline and self._timeline.has_time:
            # Below WIDE_HEADER columns the badge drops the span (the slider shows it), so
            # the file name is not the part of the header that gets cut.
            label = self._timeline.label(compact=self.size.width < WIDE_HEADER)
            header.info = replace(header.info, state=label, paused_for_s=None)
        else:  # one batch: no achieved rate or coverage to speak of
            header.info = replace(
                header.info, state="STATIC", paused_for_s=None, rate=0.0, coverage=None
            )

    def on_resize(self, event: events.Resize) -> None:
        self._refresh_header()

    def action_window(self) -> None:
        if self._has_timeline and self._timeline.has_time:
            super().action_window()
        else:
            self.notify("a static profile has one window: everything", timeout=3)

    def action_mode(self) -> None:
        self.notify("the mode is fixed by how the file was recorded", timeout=3)

    def action_reset(self) -> None:
        self.notify("reset is for live sampling; use home / end to move in time", timeout=3)

    def action_help(self) -> None:
        self.push_screen(HelpScreen([*help_rows(), *VIEW_KEYS]))
