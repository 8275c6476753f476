"""The state behind StackTree and the selections read off it: ingest (interning each
(thread, stack) once and adding counts to time buckets), the running fold of everything,
the sliding folds of live windows, and per snapshot the window's selection, the baseline
and the history, each from a Scope the index resolved once (values passed down, no
call back up).

StackTree (samplers/tree/stacktree.py) owns one TreeData behind its lock and turns
selections into Snapshot content; nothing here is thread-safe on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from samplers.model import SampleBatch
from samplers.tree.buckets import Bucket, BucketStore, merged
from samplers.tree.history import BucketCounts, HistoryCache
from samplers.tree.index import ROOT, THREAD_BITS, THREAD_MASK, Scope, StackIndex
from samplers.tree.query import (
    Folded,
    RunningFold,
    Selection,
    fold,
    fold_matching,
    select,
    split,
    totals_each,
)
from samplers.tree.snapshot import View
from samplers.tree.window import WindowFold


class TreeData:
    """Samples aggregated by time bucket and (thread, stack), plus derived folds."""

    def __init__(
        self,
        bucket_seconds: float,
        max_fine: int,
        coarse_seconds: float,
        max_coarse: int,
        rate: float,
    ) -> None:
        self.index = StackIndex()
        self.buckets = BucketStore(bucket_seconds, max_fine, coarse_seconds, max_coarse)
        self.all: dict[int, int] = {}  # every sample ever, per packed (stack, thread) key
        self.all_samples = 0
        self.all_threads: dict[int, int] = {}
        # "Everything" folded as samples arrive, per granularity (by-line from first use).
        self.running: list[RunningFold | None] = [RunningFold(Folded(ROOT)), None]
        self.histories: dict[tuple[object, float | None], HistoryCache] = {}
        self.windows: dict[object, WindowFold] = {}
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.rate = rate
        self.mode = "cpu"

    def add(self, batch: SampleBatch) -> None:
        index = self.index
        stack_pids = index.stack_pids
        thread_ids = index.thread_ids
        intern_stack = index.intern_stack
        entries: list[tuple[int, int]] = []
        for s in batch.samples:
            if s.count > 0:
                sid = intern_stack(s.stack)
                # the sampler's pid, else the one the stack's process roots name
                thread_key = (s.pid or stack_pids[sid], s.thread)
                tid = thread_ids.get(thread_key)
                if tid is None:
                    tid = index.intern_thread(s.thread, thread_key[0])
                entries.append(((sid << THREAD_BITS) | tid, s.count))
        if batch.rate > 0:
            self.rate = batch.rate
        self.mode = batch.mode
        t_end = max(batch.t_start, batch.t_end)
        self.first_t = batch.t_start if self.first_t is None else min(self.first_t, batch.t_start)
        self.last_t = t_end if self.last_t is None else max(self.last_t, t_end)
        if not entries:
            return
        buckets, cum = self.buckets.targets(batch.t_start, t_end)
        all_counts = self.all
        threads = self.all_threads
        running = [(g, r) for g, r in enumerate(self.running) if r is not None]
        for g, _ in running:
            index.ensure(g)
        funcs_in = index.funcs_in[0]
        for b in buckets if len(buckets) > 1 else ():
            b.func_totals = None  # counts split between buckets: recount when needed
        func_totals = buckets[0].func_totals if len(buckets) == 1 else None
        for key, count in entries:
            BucketStore.spread(buckets, cum, key, count)
            if func_totals is not None:
                for k in funcs_in[key >> THREAD_BITS]:
                    func_totals[k] = func_totals.get(k, 0) + count
            all_counts[key] = all_counts.get(key, 0) + count
            tid = key & THREAD_MASK
            threads[tid] = threads.get(tid, 0) + count
            for g, r in running:
                r.add(index, g, key >> THREAD_BITS, count)
        self.all_samples += sum(c for _, c in entries)
        self.buckets.compact()

    def select(self, pairs: Mapping[int, int] | None, scope: Scope) -> Selection:
        """Window counts (None: everything) through the scope's thread filter and zoom,
        folded; everything unscoped is the running fold, folded as samples arrived."""
        if pairs is None and scope.plain:
            running = self.running_fold(scope.g)
            return Selection(running.samples, None, running, dict(self.all_threads))
        return select(self.all if pairs is None else pairs, scope, self.index)

    def sliding(
        self,
        buckets: list[Bucket],
        scope: Scope,
        window_s: float | None,
        stack_filter: str | None = None,
    ) -> Selection:
        """A live window's selection from its sliding fold (see samplers/tree/window.py);
        with `stack_filter` (the pattern the scope's filter flags were resolved from), of
        the stacks containing a matching function only."""
        root = scope.root
        if root is None:  # no such zoom path: an empty fold, but the window's own counts
            return select(merged(buckets), scope, self.index)
        filtered = stack_filter is not None
        key = (scope.g, window_s, scope.tids, root, stack_filter)
        window = self.windows.get(key)
        if window is None:
            if len(self.windows) >= 6:  # a few live views at a time; bound the memory
                self.windows.clear()
            window = self.windows[key] = WindowFold(self.index, scope.g, scope.tids, root, filtered)
        folded, per_thread, total = window.sync(buckets, scope.stack_ok)
        return Selection(total, None, folded, per_thread)

    def running_fold(self, g: int) -> Folded:
        running = self.running[g]
        if running is None:  # first by-line view: catch up from everything so far
            stack_counts, _ = split(self.all, None)
            running = self.running[g] = RunningFold(fold(stack_counts, self.index, g))
        return running.folded

    def thread_counts(self, view: View) -> dict[int, int]:
        """Samples per thread id in `view`'s window, whatever its thread, process, zoom
        and filter (what the thread chooser lists)."""
        window = self.buckets.window(self.first_t, self.last_t, view.window_s, view.end_t)
        if window is None:
            return {}
        buckets = window[0]
        if view.window_s is None and view.end_t is None:
            return dict(self.all_threads)
        out: dict[int, int] = {}
        for b in buckets:
            per = cast("dict[int, int] | None", b.cache.get("threads"))
            if per is None:
                per = {}
                for key, count in b.counts.items():
                    tid = key & THREAD_MASK
                    per[tid] = per.get(tid, 0) + count
                b.cache["threads"] = per
            for tid, count in per.items():
                out[tid] = out.get(tid, 0) + count
        return out

    def baseline(self, view: View, scope: Scope) -> tuple[Selection, Folded] | None:
        """The baseline selection: `view.baseline`'s window (everything when None), same
        thread filter and zoom (`scope`, resolved on this tree's index); and its icicle
        fold, with the function filter applied too so node shares compare like with
        like. None when it holds no samples."""
        pairs = None if view.baseline is None else merged(self.buckets.between(*view.baseline))
        sel = self.select(pairs, scope)
        if sel.total == 0 or sel.folded.root < 0:
            return None
        icicle = sel.folded
        if view.filter:
            counts = sel.stack_counts
            if counts is None:
                counts = select(self.all, scope, self.index, nodes_wanted=False).stack_counts
            icicle = fold_matching(counts or {}, scope, self.index, icicle.root)
        return sel, icicle

    def history(
        self,
        buckets: list[Bucket],
        view: View,
        scope: Scope,
        wanted: set[int],
        h_from: float,
        h_to: float,
    ) -> dict[int, tuple[float, ...]]:
        """Share per history point of each function key in `wanted`."""
        # New threads can match a thread pattern, so the thread count is part of the key.
        scoped = bool(view.thread) or view.process is not None
        g = scope.g
        config = (g, view.thread, view.process, view.zoom, len(self.index.threads) if scoped else 0)
        default = g == 0 and scope.plain
        # Buckets not counted yet for this configuration are folded in one pass.
        missing = [
            b for b in buckets if (b.func_totals is None if default else config not in b.cache)
        ]
        each = totals_each([b.counts for b in missing], scope, self.index)
        for b, (total, by_key) in zip(missing, each, strict=True):
            if default:
                b.func_totals = dict(by_key)
            else:
                if len(b.cache) >= 4:  # a few views at once at most; keep memory bounded
                    b.cache.clear()
                b.cache[config] = (total, by_key)
        counted: list[BucketCounts] = []
        for b in buckets:
            ident = (id(b), b.version)
            if default:
                counted.append(BucketCounts(b.t0, b.t1, ident, b.total, b.func_totals or {}))
            else:
                total, by_key = cast("tuple[int, dict[int, int]]", b.cache[config])
                counted.append(BucketCounts(b.t0, b.t1, ident, total, by_key))
        cache = self.histories.get((config, view.window_s))
        if cache is None:
            if len(self.histories) >= 4:
                self.histories.clear()
            cache = self.histories[(config, view.window_s)] = HistoryCache()
        bs = self.buckets.bucket_seconds
        return cache.history(counted, h_from, h_to, bs, wanted)
