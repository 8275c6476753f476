"""StackTree: the rolling, time-bucketed aggregate of every sample, and the immutable
`Snapshot`s the UI renders.

Ingest interns each (thread, stack) once and adds integer counts to time buckets
(samplers/treebuckets.py). A snapshot merges the buckets of the asked window, folds the
stacks onto a prefix trie (samplers/treequery.py) and reads function counts, the call
tree, per-thread counts, history and baseline deltas off it. Percentages are shares of
`Snapshot.total_samples`, so none can exceed 100%.
"""

from __future__ import annotations

import gc
import heapq
import math
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import cast

from samplers.model import Health, SampleBatch, SystemReading
from samplers.snapshot import CallNode, FunctionStat, Snapshot, View
from samplers.treebuckets import Bucket, BucketStore
from samplers.treehistory import BucketCounts, HistoryCache
from samplers.treeindex import ROOT, THREAD_BITS, THREAD_MASK, StackIndex, pack
from samplers.treequery import Folded, NodeDelta, RunningFold, build_calltree, fold
from samplers.treewindow import WindowFold

# The table lists at most this many functions by own plus this many by total (after the
# function filter): more rows than anyone scrolls, and frozen rows cost time to build.
FUNCTION_ROWS = 400
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
    threads: tuple[tuple[str, int], ...]


@dataclass(slots=True)
class _Selection:
    """Stacks chosen by window, thread and zoom, folded onto the trie."""

    total: int  # samples after the thread filter, before zoom and function filter
    stack_counts: dict[int, int] | None  # after thread filter and zoom; None: not built
    folded: Folded
    per_thread: dict[int, int]  # before the thread filter


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
        max_coarse: int = 60,
        max_readings: int = 3600,
    ) -> None:
        """Keep `max_buckets` fine buckets (5 min of seconds), then per-`coarse_seconds`
        buckets up to `max_coarse` of them, then one aggregate of everything older."""
        self._config = (bucket_seconds, max_buckets, coarse_seconds, max_coarse)
        self._initial_rate = rate
        self._max_readings = max_readings
        self._lock = threading.RLock()
        self._snapshots = 0
        self._health: Health | None = None
        self._readings: deque[SystemReading] = deque(maxlen=max_readings)
        self._clear()

    def _clear(self) -> None:
        bs, max_fine, cs, max_coarse = self._config
        self._index = StackIndex()
        self._buckets = BucketStore(bs, max_fine, cs, max_coarse)
        self._all: dict[int, int] = {}  # every sample ever, per packed key
        self._all_samples = 0
        self._all_threads: dict[int, int] = {}
        # "Everything" folded as samples arrive, per granularity (by-line from first use).
        self._running: list[RunningFold | None] = [RunningFold(Folded(ROOT)), None]
        self._histories: dict[tuple[object, float | None], HistoryCache] = {}
        self._windows: dict[object, WindowFold] = {}
        self._first_t: float | None = None
        self._last_t: float | None = None
        self.rate = self._initial_rate
        self.mode = "cpu"
        self._data_version = 0
        self._content_cache: tuple[object, _Content] | None = None
        self._last_snapshot: tuple[object, Snapshot] | None = None

    # ---- ingest -------------------------------------------------------------------

    def add(self, batch: SampleBatch) -> None:
        with self._lock, _gc_paused():
            index = self._index
            entries = [
                (pack(index.intern_stack(s.stack), index.intern_thread(s.thread)), s.count)
                for s in batch.samples
                if s.count > 0
            ]
            if batch.rate > 0:
                self.rate = batch.rate
            self.mode = batch.mode
            t_end = max(batch.t_start, batch.t_end)
            self._first_t = (
                batch.t_start if self._first_t is None else min(self._first_t, batch.t_start)
            )
            self._last_t = t_end if self._last_t is None else max(self._last_t, t_end)
            self._data_version += 1
            if not entries:
                return
            buckets, cum = self._buckets.targets(batch.t_start, t_end)
            all_counts = self._all
            threads = self._all_threads
            running = [(g, r) for g, r in enumerate(self._running) if r is not None]
            for g, _ in running:
                index.ensure(g)
            for key, count in entries:
                BucketStore.spread(buckets, cum, key, count)
                all_counts[key] = all_counts.get(key, 0) + count
                tid = key & THREAD_MASK
                threads[tid] = threads.get(tid, 0) + count
                for g, r in running:
                    r.add(index, g, key >> THREAD_BITS, count)
            self._all_samples += sum(c for _, c in entries)
            self._buckets.compact()

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
        return self._all_samples

    @property
    def distinct_stacks(self) -> int:
        return len(self._index.stacks)

    @property
    def bucket_count(self) -> int:
        return len(self._buckets)

    @property
    def first_t(self) -> float | None:
        return self._first_t

    @property
    def last_t(self) -> float | None:
        return self._last_t

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
                first_t=self._first_t or 0.0,
                last_t=self._last_t or 0.0,
                total_samples=content.total_samples,
                functions=content.functions,
                root=content.root,
                threads=content.threads,
                rate=self.rate,
                mode=self.mode,
                health=self._health,
                readings=self._window_readings(content.t_start, view.end_t),
                all_samples=self._all_samples,
            )
            self._last_snapshot = (full_key, snap)
            return snap

    def _readings_tail(self) -> float | None:
        return self._readings[-1].t if self._readings else None

    def _window_readings(self, t_start: float, end_t: float | None) -> tuple[SystemReading, ...]:
        if end_t is None:  # live: readings may run slightly ahead of the newest chunk
            return tuple(r for r in self._readings if r.t >= t_start)
        return tuple(r for r in self._readings if t_start <= r.t <= end_t)

    def _window(self, view: View) -> tuple[list[Bucket], float, float, float, float] | None:
        """(buckets, t_start, t_end, history from, history to) of the asked window."""
        if self._first_t is None or self._last_t is None:
            return None
        bs = self._buckets.bucket_seconds
        end = self._last_t if view.end_t is None else view.end_t
        if view.window_s is None:
            buckets = list(self._buckets.all_buckets())
            if view.end_t is not None:
                buckets = [b for b in buckets if b.t0 < end]
            h_from = math.floor(self._first_t / bs) * bs
            return buckets, self._first_t, end, h_from, max(end, h_from + bs)
        end_index = math.ceil(end / bs) - 1
        n = max(1, round(view.window_s / bs))
        start = (end_index - n + 1) * bs
        stop = (end_index + 1) * bs
        buckets = self._buckets.between(start, stop)
        h_from = max(start, math.floor(self._first_t / bs) * bs)
        return buckets, max(start, self._first_t), end, min(h_from, stop - bs), stop

    def _counts(
        self, pairs: Mapping[int, int], view: View
    ) -> tuple[dict[int, int], dict[int, int]]:
        """(stack id -> samples after the thread filter, thread id -> samples before it)."""
        tids = self._index.threads_matching(view.thread) if view.thread else None
        per_thread: dict[int, int] = {}
        stack_counts: dict[int, int] = {}
        for key, count in pairs.items():
            tid = key & THREAD_MASK
            per_thread[tid] = per_thread.get(tid, 0) + count
            if tids is None or tid in tids:
                sid = key >> THREAD_BITS
                stack_counts[sid] = stack_counts.get(sid, 0) + count
        return stack_counts, per_thread

    def _select(
        self, pairs: Mapping[int, int] | None, view: View, g: int, nodes_wanted: bool = True
    ) -> _Selection:
        """Window counts (None: everything) through the thread filter and zoom, folded."""
        index = self._index
        index.ensure(g)
        if pairs is None and not view.thread and not view.zoom:
            running = self._running_fold(g)
            return _Selection(running.samples, None, running, dict(self._all_threads))
        stack_counts, per_thread = self._counts(self._all if pairs is None else pairs, view)
        total = sum(stack_counts.values())
        root = self._zoom_root(view, g)
        if root is None:
            return _Selection(total, {}, Folded(-1), per_thread)
        if root != ROOT:
            depth = len(view.zoom)
            nodes = index.nodes[g]
            stack_counts = {
                s: c
                for s, c in stack_counts.items()
                if len(nodes[s]) >= depth and nodes[s][depth - 1] == root
            }
        folded = fold(stack_counts, index, g, root, nodes_wanted)
        return _Selection(total, stack_counts, folded, per_thread)

    def _zoom_root(self, view: View, g: int) -> int | None:
        """The trie node View.zoom leads to (ROOT when not zoomed), None if no such path."""
        if not view.zoom:
            return ROOT
        ids = [self._index.key_id(f, g) for f in view.zoom]
        if None in ids:
            return None
        return self._index.tries[g].find([k for k in ids if k is not None])

    def _sliding(
        self, buckets: list[Bucket], view: View, g: int, stack_filter: str | None = None
    ) -> _Selection:
        """A live window's selection from its sliding fold (see samplers/treewindow.py);
        with `stack_filter`, of the stacks containing a matching function only."""
        self._index.ensure(g)
        root = self._zoom_root(view, g)
        if root is None:
            return self._select({}, view, g)
        tids = self._index.threads_matching(view.thread) if view.thread else None
        key = (g, view.window_s, tids, root, stack_filter)
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= 6:  # a few live views at a time; bound the memory
                self._windows.clear()
            window = self._windows[key] = WindowFold(self._index, g, tids, root, stack_filter)
        folded, per_thread, total = window.sync(buckets)
        return _Selection(total, None, folded, per_thread)

    def _running_fold(self, g: int) -> Folded:
        running = self._running[g]
        if running is None:  # first by-line view: catch up from everything so far
            stack_counts, _ = self._counts(self._all, View())
            running = self._running[g] = RunningFold(fold(stack_counts, self._index, g))
        return running.folded

    def _merge(self, buckets: Iterable[Bucket]) -> dict[int, int]:
        merged: dict[int, int] = {}
        for b in buckets:
            for key, count in b.counts.items():
                merged[key] = merged.get(key, 0) + count
        return merged

    def _build(self, view: View, baseline_of: StackTree | None) -> _Content:
        g = 1 if view.by_line else 0
        index = self._index
        trie = index.tries[g]
        keys = index.keys(g)
        window = self._window(view)
        if window is None:
            root = CallNode(view.zoom[-1] if view.zoom else None, 0, 0, ())
            return _Content(0.0, 0.0, 0, (), root, ())
        buckets, t_start, t_end, h_from, h_to = window
        everything = view.window_s is None and view.end_t is None
        if everything and not view.thread and not view.zoom:
            sel = self._select(None, view, g)
        elif view.end_t is None:
            sel = self._sliding(buckets, view, g)
        else:
            sel = self._select(self._merge(buckets), view, g)
        folded = sel.folded
        own_by_key, total_by_key = folded.own_by_key, folded.total_by_key
        icicle = folded
        if view.filter and folded.root >= 0:
            if view.end_t is None:
                icicle = self._sliding(buckets, view, g, view.filter).folded
            else:
                ok = index.stack_matches(view.filter, g)
                counts = sel.stack_counts or {}
                icicle = fold({s: c for s, c in counts.items() if ok[s]}, index, g, folded.root)
            flags = index.func_matches(view.filter, g)
            shown = [k for k in total_by_key if flags[k]]
        else:
            shown = list(total_by_key)
        if len(shown) > FUNCTION_ROWS:
            top = set(heapq.nlargest(FUNCTION_ROWS, shown, key=lambda k: own_by_key.get(k, 0)))
            top.update(heapq.nlargest(FUNCTION_ROWS, shown, key=total_by_key.__getitem__))
            shown = list(top)
        shown.sort(key=lambda k: (-own_by_key.get(k, 0), -total_by_key[k], k))

        n = sel.total
        fn_delta: dict[int, float] = {}
        node_delta = None
        base = self._baseline(view, baseline_of, g)
        if base is not None and n > 0:
            base_tree, base_sel, base_icicle = base
            base_keys = base_tree._index.keys(g)
            before = {base_keys[k]: c for k, c in base_sel.folded.total_by_key.items()}
            nb = base_sel.total
            for k in shown:
                fn_delta[k] = 100.0 * (total_by_key[k] / n - before.get(keys[k], 0) / nb)
            node_delta = NodeDelta(index, base_tree._index, g, base_icicle.totals, n, nb)

        history = self._history(buckets, view, g, shown, own_by_key, total_by_key, h_from, h_to)
        rate = self.rate if self.rate > 0 else 1.0
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
        threads = tuple(
            sorted(
                ((index.threads[t], c) for t, c in sel.per_thread.items()),
                key=lambda tc: (-tc[1], tc[0]),
            )
        )
        return _Content(t_start, t_end, n, functions, root_node, threads)

    def _baseline(
        self, view: View, baseline_of: StackTree | None, g: int
    ) -> tuple[StackTree, _Selection, Folded] | None:
        """The baseline selection (same thread filter and zoom), and its icicle fold
        (function filter applied too, so node shares compare like with like)."""
        tree = baseline_of or self
        if view.baseline is None and baseline_of is None:
            return None
        with tree._lock:
            pairs = (
                None
                if view.baseline is None
                else tree._merge(tree._buckets.between(*view.baseline))
            )
            sel = tree._select(pairs, replace(view, filter=None), g)
            if sel.total == 0 or sel.folded.root < 0:
                return None
            icicle = sel.folded
            if view.filter:
                counts = sel.stack_counts
                if counts is None:
                    counts = tree._counts(tree._all, view)[0]
                ok = tree._index.stack_matches(view.filter, g)
                icicle = fold(
                    {s: c for s, c in counts.items() if ok[s]}, tree._index, g, icicle.root
                )
            return tree, sel, icicle

    def _history(
        self,
        buckets: list[Bucket],
        view: View,
        g: int,
        rows: list[int],
        own_by_key: Mapping[int, int],
        total_by_key: Mapping[int, int],
        h_from: float,
        h_to: float,
    ) -> dict[int, tuple[float, ...]]:
        """History of the HISTORY_ROWS hottest listed functions by own and by total
        (other rows get none: no screen shows that many sparklines at once)."""
        if not rows or h_to <= h_from:
            return {}
        wanted = set(rows[:HISTORY_ROWS])  # rows come sorted by own
        wanted.update(heapq.nlargest(HISTORY_ROWS, rows, key=total_by_key.__getitem__))
        config = (g, view.thread, view.zoom, len(self._index.threads))
        plain = replace(view, filter=None)
        counted: list[BucketCounts] = []
        for b in buckets:
            cached = cast("tuple[int, dict[int, int]] | None", b.cache.get(config))
            if cached is None:
                if len(b.cache) >= 4:  # a few views at once at most; keep memory bounded
                    b.cache.clear()
                sel = self._select(b.counts, plain, g, nodes_wanted=False)
                cached = (sel.total, sel.folded.total_by_key)
                b.cache[config] = cached
            counted.append(BucketCounts(b.t0, b.t1, (id(b), b.version), cached[0], cached[1]))
        cache = self._histories.get((config, view.window_s))
        if cache is None:
            if len(self._histories) >= 4:
                self._histories.clear()
            cache = self._histories[(config, view.window_s)] = HistoryCache()
        bs = self._buckets.bucket_seconds
        return cache.history(counted, h_from, h_to, bs, wanted)
