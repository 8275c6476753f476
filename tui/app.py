"""The live screen: header, rails, top-functions table, icicle, footer.

One thread worker runs `SamplingLoop`, which owns the sampler and the StackTree; the
app only sends it requests (the View to show, mode, reset) and renders the immutable
snapshots it posts back. Works with any Sampler: live py-spy for `top`, a replay for
`view` and the tests.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from samplers.clock import Clock
from samplers.model import Health, Metadata, Sampler, SamplingOptions
from samplers.session.live import LoopUpdate, Monitor, SamplingLoop, Tree
from samplers.tree.snapshot import Snapshot, View
from tui.hangup import ExitGuard, terminal_driver
from tui.keys import bindings, help_rows
from tui.render.header_text import asyncio_note, backend_label, children_note
from tui.render.safe_text import clean
from tui.snapshot_actions import SnapshotActions
from tui.view_actions import ViewActions
from tui.widgets.filter_bar import FilterBar
from tui.widgets.header import (
    STATE_EXITED,
    STATE_FAILED,
    STATE_LIVE,
    STATE_PAUSED,
    STATE_STARTING,
    FlametopHeader,
    HeaderInfo,
)
from tui.widgets.help import HelpScreen
from tui.widgets.icicle import Icicle
from tui.widgets.rails import Rails, RailsInfo
from tui.widgets.top_table import TopTable

LATENCY_KEPT = 1200  # 5 min of snapshots at 4 per second
ERROR_SHOWN_S = 60.0  # the header keeps an error this long (notifications say it at once)


class SnapshotReady(Message):
    """The sampling loop has news: maybe a snapshot, always health and counters."""

    def __init__(self, update: LoopUpdate) -> None:
        super().__init__()
        self.update = update


class FlametopApp(ViewActions, SnapshotActions, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "flametop"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = bindings()

    def __init__(
        self,
        sampler: Sampler,
        *,
        target: str = "",
        metadata: Metadata | None = None,
        save_dir: str | Path = "flametop-snapshots",
        tree: Tree | None = None,
        monitor: Monitor | None = None,
        clock: Callable[[], float] | Clock = time.time,
        options: SamplingOptions | None = None,
        window_s: float | None = 30.0,
        snapshot_interval: float = 0.25,
        finished_label: str = STATE_EXITED,
        sampler_started: bool = False,
        exit_guard: ExitGuard | None = None,
    ) -> None:
        # NO_COLOR: no colour codes at all (Textual's default turns colours to greys)
        driver = terminal_driver() if exit_guard else None
        super().__init__(driver_class=driver, ansi_color="NO_COLOR" in os.environ)
        # how sampling runs (the CLI's --rate, --mode, …); a replay's say how it was taken
        options = options or sampler.options
        if tree is None:
            from samplers.tree.modes import ModeTrees

            tree = ModeTrees(mode=options.mode, rate=options.rate)
        self.target = target
        self.metadata = metadata or Metadata(rate=options.rate, mode=options.mode)
        self.save_dir = Path(save_dir)
        self.loop = SamplingLoop(
            sampler,
            tree,
            monitor=monitor,
            snapshot_interval=snapshot_interval,
            started=sampler_started,
        )
        # a samplers.clock.Clock (FakeClock in tests) or a plain callable such as time.time
        self._clock: Callable[[], float] = clock if callable(clock) else clock.time
        self._rate = options.rate
        self._mode: str = options.mode
        self._pending_mode: str | None = None
        self._finished_label = finished_label
        self._exit_guard = exit_guard
        self._autosave_lock = threading.Lock()
        self._view = View(window_s=window_s, mode=options.mode)
        self._shown: Snapshot | None = None
        self._last_update: LoopUpdate | None = None
        self._paused_at: float | None = None
        self._samples_at_pause = 0
        self._latencies: deque[tuple[float, float]] = deque(maxlen=LATENCY_KEPT)  # (t, s)
        self._newest_shown_t = float("-inf")
        self._errors: list[str] = []
        self._error_at = 0.0
        self._thread_label: str | None = None  # the name chosen, shown instead of its regex
        self._process_label: str | None = None  # "pid cmdline" of the process chosen
        self._table_title = "top functions"
        self._finished = False
        self.autosaved: tuple[Path, ...] = ()
        self.autosave_errors: tuple[str, ...] = ()  # printed after the screen is gone
        self.exit_signal: int | None = None
        self.snapshot_count = 0  # snapshots shown; tests wait on it
        self.notices: list[tuple[str, str]] = []  # (severity, message), oldest first

    @property
    def shown(self) -> Snapshot | None:
        """The snapshot on screen."""
        return self._shown

    @property
    def view(self) -> View:
        """What the user asked to see."""
        return self._view

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify (thread-safe), also kept in `notices` for tests and logs."""
        self.notices.append((severity, message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- composition --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FlametopHeader(id="header")
        yield Rails(id="rails")
        table = TopTable(id="table")
        table.border_title = self._table_title
        yield table
        icicle = Icicle(id="icicle")
        icicle.border_title = "icicle"
        yield icicle
        yield FilterBar(id="filter")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.loop.request_view(self._view)
        self._refresh_header()
        self._run_loop()
        self.set_interval(1.0, self._tick)
        self.query_one(TopTable).focus()
        if self._exit_guard is not None:  # SIGHUP/SIGTERM now come to _on_signal
            self._exit_guard.attach(asyncio.get_running_loop(), self._on_signal)

    def on_unmount(self) -> None:
        if self._exit_guard is not None:
            self._exit_guard.detach()
        self.loop.stop()

    # -- the worker ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="sampling")
    def _run_loop(self) -> None:
        worker = get_current_worker()

        def publish(update: LoopUpdate) -> None:
            self.post_message(SnapshotReady(update))

        self.loop.run(publish=publish, cancelled=lambda: worker.is_cancelled)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        # The loop catches everything itself; this is the last line of defence.
        if event.worker.group == "sampling" and event.state == WorkerState.ERROR:
            self._add_errors((f"sampling stopped: {event.worker.error}",))

    @on(SnapshotReady)
    def _snapshot_ready(self, message: SnapshotReady) -> None:
        if not self.query(TopTable):
            return  # shutting down: the widgets are gone
        update = message.update
        self._last_update = update
        if update.errors:
            self._add_errors(update.errors)
        if update.batch_mode is not None:
            self._mode = update.batch_mode
            if self._pending_mode == update.batch_mode:
                self._pending_mode = None
        if update.finished and not self._finished:
            self._finished = True
            self.notify(
                f"{self._finished_label.lower()}: everything stays browsable and saveable",
                title="flametop",
                markup=False,
            )
        snap = update.snapshot
        if snap is not None and update.view == self._view:
            self._show(snap)
        self._refresh_header()

    # -- rendering ----------------------------------------------------------------------

    def _show(self, snap: Snapshot) -> None:
        self._shown = snap
        self.snapshot_count += 1
        if self._view.end_t is None and snap.total_samples and snap.last_t > self._newest_shown_t:
            self._newest_shown_t = snap.last_t
            self._latencies.append((snap.last_t, max(0.0, self._clock() - snap.last_t)))
        table = self.query_one(TopTable)
        table.show(snap)
        self.query_one(Icicle).show(snap, highlight=table.selected_frame)
        in_window = tuple(lat for t, lat in self._latencies if snap.t_start <= t <= snap.t_end)
        several = len(snap.processes) > 1
        rails = RailsInfo(snap.readings, in_window, self._view.process, combined=several)
        self.query_one(Rails).info = rails
        self._refresh_titles()

    def _refresh_titles(self) -> None:
        view = self._view
        scope: list[str] = []
        if view.process is not None:
            scope.append(f"process {view.process}")
        if view.thread:
            scope.append(f"thread {clean(self._thread_label or view.thread, 30)}")
        if view.filter:
            scope.append(f"filter {clean(view.filter, 30)}")
        if view.zoom:
            scope.append(f"in {clean(view.zoom[-1].function, 30)}")
        if view.baseline:
            scope.append("Δ vs baseline")
        if view.by_line:
            scope.append("by line")
        table = self.query_one(TopTable)
        title = " · ".join(["top functions", *scope])
        if title != self._table_title:  # setting it repaints the whole table
            self._table_title = title
            table.border_title = Content(title)  # plain text: names are not markup

    def _refresh_header(self) -> None:
        update = self._last_update
        health = update.health if update else None
        if self._view.end_t is not None:
            state = STATE_PAUSED
        elif self._finished:
            failed = health is not None and health.state == "failed"
            state = STATE_FAILED if failed else self._finished_label
        elif update is None or (
            health is not None and health.state == "starting" and not update.all_samples
        ):
            state = STATE_STARTING
        else:
            state = STATE_LIVE
        paused_for = None
        if self._paused_at is not None:
            paused_for = max(0.0, self._clock() - self._paused_at)
        since = (update.all_samples if update else 0) - self._samples_at_pause
        self.query_one(FlametopHeader).info = HeaderInfo(
            target=self.target,
            mode=self._mode,
            pending_mode=self._pending_mode,
            rate=health.rate if health else self._rate,
            # where idle instants are unseen, neither figure tells a loss: leave them out
            achieved_rate=health.achieved_rate if health and not health.idle_unseen else None,
            coverage=(
                health.coverage if health and health.expected and not health.idle_unseen else None
            ),
            window_s=self._view.window_s,
            state=state,
            paused_for_s=paused_for,
            samples_since_pause=max(0, since),
            error=self._current_error(health),
            backend=backend_label(health),
            note=asyncio_note(self._shown, self._mode) or children_note(self._shown),
            process=(self._process_label or str(self._view.process))
            if self._view.process is not None
            else "",
            gil_held=health.gil_held if health else None,
            active_threads=health.active_threads if health else None,
        )

    def _current_error(self, health: Health | None) -> str | None:
        """The newest error, while it is recent or the sampler has failed for good."""
        if not self._errors:
            return None
        failed = health is not None and health.state == "failed"
        if failed or self._clock() - self._error_at < ERROR_SHOWN_S:
            return self._errors[-1]
        return None

    def _tick(self) -> None:
        if self._paused_at is not None or self._errors:
            self._refresh_header()

    def _add_errors(self, errors: tuple[str, ...]) -> None:
        for error in errors:
            if self._errors and self._errors[-1] == error:
                continue
            self._errors.append(error)
            self._error_at = self._clock()
            self.notify(clean(error), title="sampler", severity="error", markup=False)
        self._refresh_header()

    # -- view changes (the actions live in ViewActions) ----------------------------------

    @on(FilterBar.Changed, "#filter")
    def _filter_typed(self, event: FilterBar.Changed) -> None:
        text = event.value or None
        if text != self._view.filter:
            self._set_view(replace(self._view, filter=text))

    @on(FilterBar.Submitted, "#filter")
    def _filter_done(self, event: FilterBar.Submitted) -> None:
        self._close_filter()

    @on(FilterBar.Cleared)
    def _filter_cleared(self, event: FilterBar.Cleared) -> None:
        self._set_view(replace(self._view, filter=None))
        self._close_filter()

    @on(Icicle.ZoomIn)
    def _zoom_in(self, event: Icicle.ZoomIn) -> None:
        self._set_view(replace(self._view, zoom=tuple(event.path)))

    @on(Icicle.ZoomOut)
    def _zoom_out(self, event: Icicle.ZoomOut) -> None:
        self.action_zoom_out()

    @on(TopTable.FunctionHighlighted)
    def _function_highlighted(self, event: TopTable.FunctionHighlighted) -> None:
        icicles = self.query(Icicle)  # none while the app shuts down
        if self._shown is not None and icicles:
            icicles.first().show(self._shown, highlight=event.frame)

    @on(Icicle.FrameSelected)
    def _frame_selected(self, event: Icicle.FrameSelected) -> None:
        if event.frame is not None and self.query_one(Icicle).has_focus:
            self.query_one(TopTable).select_frame(event.frame)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_rows()))

    async def action_quit(self) -> None:
        self.exit(0)
