"""The keys that change what the live screen shows: pause, window, mode, lines, reset,
baseline, sort, filter, thread, process and zoom. A mixin of FlametopApp, kept apart so the app
module stays about composition, the worker and saving.

Every change goes to the sampling loop as a new View (`_set_view`); the loop rebuilds the
snapshot at once, also while paused (the View then ends at the pause).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from samplers.model import MODES
from samplers.tree.snapshot import Snapshot, View
from tui.render.top_rows import SORT_KEYS
from tui.widgets.filter_bar import FilterBar
from tui.widgets.header import window_label
from tui.widgets.process_chooser import ProcessChoice, ProcessChooser
from tui.widgets.thread_chooser import ThreadChoice, ThreadChooser
from tui.widgets.top_table import TopTable

if TYPE_CHECKING:
    from textual.app import App

    from samplers.session.live import LoopUpdate, SamplingLoop

    # For the type checker the mixin is the App it is mixed into (notify, query_one,
    # push_screen come from there); at run time it adds no base, FlametopApp adds App.
    _AppBase = App[int]
else:
    _AppBase = object

WINDOWS: tuple[float | None, ...] = (5.0, 30.0, 300.0, None)


class ViewActions(_AppBase):
    """Actions of FlametopApp that change the View; see FlametopApp for the state."""

    # State owned by FlametopApp (declared here for readers and type checkers).
    if TYPE_CHECKING:
        loop: SamplingLoop
        _view: View
        _shown: Snapshot | None
        _last_update: LoopUpdate | None
        _clock: Callable[[], float]
        _paused_at: float | None
        _samples_at_pause: int
        _mode: str
        _pending_mode: str | None
        _newest_shown_t: float
        _thread_label: str | None
        _process_label: str | None

        def _refresh_titles(self) -> None: ...
        def _refresh_header(self) -> None: ...

    def _set_view(self, view: View) -> None:
        self._view = view
        self.loop.request_view(view)
        self._refresh_titles()
        self._refresh_header()

    def action_pause(self) -> None:
        if self._view.end_t is None:
            end = self._shown.t_end if self._shown else self._clock()
            self._paused_at = self._clock()
            self._samples_at_pause = self._last_update.all_samples if self._last_update else 0
            self._set_view(replace(self._view, end_t=end))
        else:
            self._paused_at = None
            self._samples_at_pause = 0
            self._set_view(replace(self._view, end_t=None))

    def action_window(self) -> None:
        current = self._view.window_s
        index = WINDOWS.index(current) if current in WINDOWS else -1
        window = WINDOWS[(index + 1) % len(WINDOWS)]
        self._set_view(replace(self._view, window_s=window))
        self.notify(f"window: {window_label(window)}", timeout=2)

    def action_mode(self) -> None:
        current = self._pending_mode or self._mode
        index = next((i for i, m in enumerate(MODES) if m == current), -1)
        mode = MODES[(index + 1) % len(MODES)]
        self.loop.request_configure(replace(self.loop.options, mode=mode))
        if self.loop.sampler.modes_are_views:
            # every thread is in every batch: the window shown switches now, past included
            self._mode = mode
            self._set_view(replace(self._view, mode=mode))
            self.notify(f"mode {mode}: the whole window, now", timeout=3)
        else:
            self._pending_mode = mode
            self._set_view(replace(self._view, mode=mode))
            self.notify(f"mode {mode}: applies from the next chunk", timeout=3)
        self._refresh_header()

    def action_by_line(self) -> None:
        self._set_view(replace(self._view, by_line=not self._view.by_line))

    def action_reset(self) -> None:
        self._paused_at = None
        self._view = replace(self._view, end_t=None, baseline=None, zoom=())
        self._newest_shown_t = float("-inf")
        self.loop.request_reset(self._view)
        self._refresh_titles()
        self._refresh_header()
        self.notify("reset: counting from now", timeout=2)

    def action_baseline(self) -> None:
        if self._view.baseline is not None:
            self._set_view(replace(self._view, baseline=None))
            self.notify("baseline cleared", timeout=2)
        elif self._shown is not None:
            span = (self._shown.t_start, self._shown.t_end)
            self._set_view(replace(self._view, baseline=span))
            self.notify("baseline set to the window shown; Δ%Total compares with it", timeout=3)

    def action_sort(self, key: str) -> None:
        # the key comes from a binding's action string: only the table's own keys sort
        sort_by = next((k for k in SORT_KEYS if k == key), None)
        if sort_by is not None:
            self.query_one(TopTable).sort_by = sort_by

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = self._view.filter or ""
        bar.add_class("-open")
        bar.focus()

    def _close_filter(self) -> None:
        self.query_one(FilterBar).remove_class("-open")
        self.query_one(TopTable).focus()

    def action_thread(self) -> None:
        threads = self._shown.thread_stats if self._shown else ()
        several = self._shown is not None and len(self._shown.processes) > 1
        chooser = ThreadChooser(threads, self._view.thread, several)
        self.push_screen(chooser, self._thread_chosen)

    def _thread_chosen(self, choice: ThreadChoice | None) -> None:
        if choice is None:
            return
        self._thread_label = choice.label
        view = replace(self._view, thread=choice.pattern)
        if choice.pid is not None and choice.pid != view.process:
            # a thread of one process among several: that process is the scope too
            view = replace(view, process=choice.pid)
            self._process_label = self._label_of(choice.pid)
        self._set_view(view)

    def action_process(self) -> None:
        processes = self._shown.processes if self._shown else ()
        if len(processes) < 2 and self._view.process is None:
            self.notify("one process sampled: --subprocesses samples its children too", timeout=3)
            return
        self.push_screen(ProcessChooser(processes, self._view.process), self._process_chosen)

    def _process_chosen(self, choice: ProcessChoice | None) -> None:
        if choice is None or choice.pid == self._view.process:
            return
        # another process has other threads: the thread choice starts over
        self._process_label = choice.label
        self._thread_label = None
        self._set_view(replace(self._view, process=choice.pid, thread=None))

    def _label_of(self, pid: int) -> str:
        processes = self._shown.processes if self._shown else ()
        return next((p.label for p in processes if p.pid == pid), str(pid))

    def action_escape(self) -> None:
        if self._view.zoom:
            self.action_zoom_out()
        elif self._view.filter:
            self._set_view(replace(self._view, filter=None))

    def action_zoom_out(self) -> None:
        if self._view.zoom:
            self._set_view(replace(self._view, zoom=self._view.zoom[:-1]))
