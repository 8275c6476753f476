"""StackTree: the rolling, time-bucketed aggregate of every sample, and the immutable
`Snapshot`s the UI renders. With ModeTrees (samplers/tree/modes.py) the only entry to
samplers/tree/; it owns the lock, the snapshot caches and the assembly of a snapshot.

Ingest (samplers/tree/data.py) interns each (thread, stack) once, adds integer counts to
time buckets that are compacted as they age (samplers/tree/buckets.py), and keeps
"everything" folded as it goes. A snapshot asks the buckets which make up its window,
has the index resolve the View once (a `Scope`: threads, zoom root, filter flags), then
takes its window's fold -- that running one, a sliding one kept current bucket by bucket
for live windows (samplers/tree/window.py), or a fresh one for a window in the past --
and reads the rows, the pruned call tree (samplers/tree/query.py), history
(samplers/tree/history.py) and baseline deltas off it, passing values down, never asked
for back. Percentages are shares of `Snapshot.total_samples`, so none can exceed 100%.
"""

from __future__ import annotations

import gc
import heapq
import math
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from samplers.model import Health, SampleBatch, SystemReading
from samplers.processes import process_label
from samplers.tree.buckets import merged
from samplers.tree.data import TreeData
from samplers.tree.index import StackIndex
from samplers.tree.query import NodeDelta, build_calltree, fold_matching
from samplers.tree.snapshot import CallNode, FunctionStat, ProcessStat, Snapshot, ThreadStat, View

# The table lists at most this many functions by own plus this many by total (after the
# function filter): more rows than anyone scrolls, and frozen rows cost time to build.
FUNCTION_ROWS = 150
HISTORY_ROWS = 100
# Icicle frames under this share of the shown root are left out of the call tree: no
# terminal is wider than this many cells, and tiny nodes dominate build time.
MIN_NODE_SHARE = 1 / 1000


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Ingest and snapshots allocate many small acyclic objects; a cyclic collection
    triggered mid-way would walk the whole long-lived tree for nothing (it doubled
    snapshot time in measurements). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class _Content:
    """The expensive part of a snapshot; reused while samples and view are unchanged."""

    t_start: float
    t_end: float
    total_samples: int
    functions: tuple[FunctionStat, ...]
    root: CallNode
    threads: tuple[ThreadStat, ...]
    processes: tuple[ProcessStat, ...]


class StackTree:
    """Rolling aggregate of sample batches; `snapshot(view)` answers what the UI shows.

    Thread-safe: a lock guards ingest and snapshot building, so the sampler worker and
    whoever asks for snapshots need not share a thread."""

    def __init__(
        self,
        bucket_seconds: float = 1.0,
        max_buckets: int = 300,
        rate: float = 100.0,
        *,
        coarse_seconds: float = 60.0,
        max_coarse: int = 30,
        max_readings: int = 3600,
    ) -> None:
        """Keep `max_buckets` fine buckets (5 min of seconds), then per-`coarse_seconds`
        buckets up to `max_coarse` of them (the half hour before), then one aggregate of
        everything older: memory stops growing after ~35 min (65-75 MB for 10k stacks
        at 100 Hz, measured by `make bench`), however long the run."""
        self._config = (bucket_seconds, max_buckets, coarse_seconds, max_coarse)
        self._data: TreeData
        self._initial_rate = rate
        self._max_readings = max_readings
        self._lock = threading.RLock()
        self._snapshots = 0
        self._health: Health | None = None
        self._readings: deque[SystemReading] = deque(maxlen=max_readings)
        self._clear()

    def _clear(self) -> None:
        self._data = TreeData(*self._config, rate=self._initial_rate)
        self._data_version = 0
        self._content_cache: tuple[object, _Content] | None = None
        self._last_snapshot: tuple[object, Snapshot] | None = None

    # ---- ingest -------------------------------------------------------------------

    def add(self, batch: SampleBatch) -> None:
        with self._lock, _gc_paused():
            self._data.add(batch)
            self._data_version += 1

    def set_health(self, health: Health) -> None:
        with self._lock:
            self._health = health

    def add_reading(self, reading: SystemReading) -> None:
        with self._lock:
            self._readings.append(reading)

    def reset(self) -> None:
        """Forget every sample and reading (health is the sampler's and stays)."""
        with self._lock:
            self._readings = deque(maxlen=self._max_readings)
            self._clear()

    @property
    def all_samples(self) -> int:
        return self._data.all_samples

    @property
    def first_t(self) -> float | None:
        return self._data.first_t

    @property
    def last_t(self) -> float | None:
        return self._data.last_t

    @property
    def rate(self) -> float:
        return self._data.rate

    @property
    def mode(self) -> str:
        return self._data.mode

    # ---- snapshot -----------------------------------------------------------------

    def snapshot(self, view: View | None = None, baseline_of: StackTree | None = None) -> Snapshot:
        """What `view` asks for. With `baseline_of`, deltas compare against that other
        tree (its `view.baseline` window, or all of it) instead of this tree's past."""
        view = view or View()
        with self._lock:
            base_version = (
                None if baseline_of is None else (id(baseline_of), baseline_of._data_version)
            )
            content_key = (self._data_version, view, base_version)
            full_key = (content_key, self._health, len(self._readings), self._readings_tail())
            if self._last_snapshot is not None and self._last_snapshot[0] == full_key:
                return self._last_snapshot[1]
            if self._content_cache is not None and self._content_cache[0] == content_key:
                content = self._content_cache[1]
            else:
                with _gc_paused():
                    content = self._build(view, baseline_of)
                self._content_cache = (content_key, content)
            self._snapshots += 1
            snap = Snapshot(
                version=self._snapshots,
                view=view,
                t_start=content.t_start,
                t_end=content.t_end,
                first_t=self._data.first_t or 0.0,
                last_t=self._data.last_t or 0.0,
                total_samples=content.total_samples,
                functions=content.functions,
                root=content.root,
                threads=thread_labels(content.threads, len(content.processes) > 1),
                rate=self.rate,
                mode=self.mode,
                health=self._health,
                readings=self._window_readings(content.t_start, view.end_t),
                all_samples=self._data.all_samples,
                processes=content.processes,
                thread_stats=content.threads,
            )
            self._last_snapshot = (full_key, snap)
            return snap

    def _readings_tail(self) -> float | None:
        return self._readings[-1].t if self._readings else None

    def _window_readings(self, t_start: float, end_t: float | None) -> tuple[SystemReading, ...]:
        if end_t is None:  # live: readings may run slightly ahead of the newest chunk
            return tuple(r for r in self._readings if r.t >= t_start)
        return tuple(r for r in self._readings if t_start <= r.t <= end_t)

    def _build(self, view: View, baseline_of: StackTree | None) -> _Content:
        g = 1 if view.by_line else 0
        data = self._data
        index = data.index
        trie = index.tries[g]
        window = data.buckets.window(data.first_t, data.last_t, view.window_s, view.end_t)
        if window is None:
            root = CallNode(view.zoom[-1] if view.zoom else None, 0, 0, ())
            return _Content(0.0, 0.0, 0, (), root, (), ())
        buckets, t_start, t_end, h_from, h_to = window
        # A live window that still holds every bucket (the first minutes of a run) is
        # "everything": the running fold answers it without folding anything.
        everything = view.end_t is None and (
            view.window_s is None or len(buckets) == len(data.buckets)
        )
        scope = index.scope(view, g)  # thread, process, zoom and filter, resolved once
        keys = scope.keys
        if everything and scope.plain:
            sel = data.select(None, scope)
        elif view.end_t is None:
            sel = data.sliding(buckets, scope, view.window_s)
        else:
            sel = data.select(merged(buckets), scope)
        folded = sel.folded
        own_by_key, total_by_key = folded.own_by_key, folded.total_by_key
        icicle = folded
        if scope.func_ok is not None and folded.root >= 0:
            if view.end_t is None:
                icicle = data.sliding(buckets, scope, view.window_s, view.filter).folded
            else:
                icicle = fold_matching(sel.stack_counts or {}, scope, index, folded.root)
            flags = scope.func_ok
            shown = [k for k in total_by_key if flags[k]]
        else:
            shown = list(total_by_key)
        if len(shown) > FUNCTION_ROWS:
            # ties broken by key so the same counts always list the same rows
            top = set(
                heapq.nlargest(FUNCTION_ROWS, shown, key=lambda k: (own_by_key.get(k, 0), -k))
            )
            top.update(heapq.nlargest(FUNCTION_ROWS, shown, key=lambda k: (total_by_key[k], -k)))
            shown = list(top)
        shown.sort(key=lambda k: (-own_by_key.get(k, 0), -total_by_key[k], k))

        n = sel.total
        fn_delta: dict[int, float] = {}
        node_delta = None
        base_tree = baseline_of or self
        base = None
        if view.baseline is not None or baseline_of is not None:
            with base_tree._lock:
                base_data = base_tree._data
                base_scope = scope if base_data is data else base_data.index.scope(view, g)
                base = base_data.baseline(view, base_scope)
        if base is not None and n > 0:
            base_sel, base_icicle = base
            base_index = base_tree._data.index
            base_keys = base_scope.keys
            before = {base_keys[k]: c for k, c in base_sel.folded.total_by_key.items()}
            nb = base_sel.total
            for k in shown:
                fn_delta[k] = 100.0 * (total_by_key[k] / n - before.get(keys[k], 0) / nb)
            node_delta = NodeDelta(index, base_index, scope, base_icicle.totals, n, nb)

        # History only for the hottest rows by own and by total: no screen shows more
        # sparklines than that at once, and each costs a tuple per point.
        wanted = set(shown[:HISTORY_ROWS])
        wanted.update(heapq.nlargest(HISTORY_ROWS, shown, key=lambda k: (total_by_key[k], -k)))
        history = data.history(buckets, view, scope, wanted, h_from, h_to)
        rate = data.rate if data.rate > 0 else 1.0
        functions = tuple(
            FunctionStat(
                key=keys[k],
                own=own_by_key.get(k, 0),
                total=total_by_key[k],
                own_seconds=own_by_key.get(k, 0) / rate,
                total_seconds=total_by_key[k] / rate,
                history=history.get(k, ()),
                delta_total=fn_delta.get(k),
            )
            for k in shown
        )
        if folded.root < 0:  # the zoom path is not in this window: an empty zoomed root
            root_node = CallNode(view.zoom[-1], 0, 0, ())
        else:
            min_total = max(1, math.ceil(icicle.samples * MIN_NODE_SHARE))
            root_node = build_calltree(icicle, trie, keys, min_total, node_delta)
        threads, processes = breakdowns(index, sel.per_thread, view.process)
        return _Content(t_start, t_end, n, functions, root_node, threads, processes)

    def thread_counts(self, view: View) -> dict[tuple[int, str], int]:
        """Samples per (pid, thread name) in `view`'s window, unscoped."""
        with self._lock:
            index = self._data.index
            counts = self._data.thread_counts(view)
            return {(index.thread_pids[t], index.threads[t]): c for t, c in counts.items()}


def breakdowns(
    index: StackIndex, per_thread: dict[int, int], process: int | None
) -> tuple[tuple[ThreadStat, ...], tuple[ProcessStat, ...]]:
    """Per-thread (of `process` when set) and per-process samples, most first."""
    pids = index.thread_pids
    per_pid: dict[int, int] = {}
    for t, c in per_thread.items():
        per_pid[pids[t]] = per_pid.get(pids[t], 0) + c
    processes = tuple(
        sorted(
            (
                ProcessStat(pid, process_label(pid, index.cmdlines.get(pid, "")), c)
                for pid, c in per_pid.items()
                if c
            ),
            key=lambda p: (-p.samples, p.pid),
        )
    )
    threads = tuple(
        sorted(
            (
                ThreadStat(pids[t], index.threads[t], c)
                for t, c in per_thread.items()
                if c and (process is None or pids[t] == process)
            ),
            key=lambda ts: (-ts.samples, ts.name, ts.pid),
        )
    )
    return threads, processes


def thread_labels(threads: tuple[ThreadStat, ...], several: bool) -> tuple[tuple[str, int], ...]:
    """(name, samples) per thread; with several processes the name says whose it is."""
    if not several:
        return tuple((t.name, t.samples) for t in threads)
    return tuple((f"{t.name} (pid {t.pid})", t.samples) for t in threads)
