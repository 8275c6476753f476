"""The state behind StackTree: interned stacks, time buckets, running and sliding folds,
and the selections a snapshot is built from (window, thread filter, zoom, baseline).

StackTree (samplers/tree/stacktree.py) owns one TreeData behind its lock and turns selections into
Snapshot content; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import cast

from samplers.model import SampleBatch
from samplers.tree.buckets import Bucket, BucketStore
from samplers.tree.history import BucketCounts, HistoryCache
from samplers.tree.index import ROOT, THREAD_BITS, THREAD_MASK, StackIndex
from samplers.tree.query import Folded, RunningFold, fold
from samplers.tree.snapshot import View
from samplers.tree.window import WindowFold


@dataclass(slots=True)
class Selection:
    """Stacks chosen by window, thread and zoom, folded onto the trie."""

    total: int  # samples after the thread filter, before zoom and function filter
    stack_counts: dict[int, int] | None  # after thread filter and zoom; None: not built
    folded: Folded
    per_thread: dict[int, int]  # before the thread filter


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

    def window(self, view: View) -> tuple[list[Bucket], float, float, float, float] | None:
        """(buckets, t_start, t_end, history from, history to) of the asked window.

        A live window ends with the newest bucket that holds samples: a chunk lands in
        the bucket of its midpoint, so the bucket of `last_t` is usually still empty and
        would show as a dip at the end of every history."""
        if self.first_t is None or self.last_t is None:
            return None
        bs = self.buckets.bucket_seconds
        end = self.last_t if view.end_t is None else view.end_t
        if view.end_t is None and self.buckets.fine:
            # ... but it follows the clock: batches that brought no sample in this mode
            # (a quiet target) still move last_t, and the window with it
            end_index = max(self.buckets.newest_index, math.floor(end / bs) - 1)
        else:
            end_index = math.ceil(end / bs) - 1
        stop = (end_index + 1) * bs
        if view.window_s is None:
            buckets = list(self.buckets.all_buckets())
            if view.end_t is not None:
                buckets = [b for b in buckets if b.t0 < end]
            h_from = math.floor(self.first_t / bs) * bs
            return buckets, self.first_t, end, h_from, max(stop, h_from + bs)
        n = max(1, round(view.window_s / bs))
        start = (end_index - n + 1) * bs
        buckets = self.buckets.between(start, stop)
        h_from = max(start, math.floor(self.first_t / bs) * bs)
        return buckets, max(start, self.first_t), end, min(h_from, stop - bs), stop

    def counts(self, pairs: Mapping[int, int], view: View) -> tuple[dict[int, int], dict[int, int]]:
        """(stack id -> samples after the thread filter, thread id -> samples before it)."""
        tids = self.index.selection(view.thread or None, view.process)
        per_thread: dict[int, int] = {}
        stack_counts: dict[int, int] = {}
        for key, count in pairs.items():
            tid = key & THREAD_MASK
            per_thread[tid] = per_thread.get(tid, 0) + count
            if tids is None or tid in tids:
                sid = key >> THREAD_BITS
                stack_counts[sid] = stack_counts.get(sid, 0) + count
        return stack_counts, per_thread

    def select(
        self, pairs: Mapping[int, int] | None, view: View, g: int, nodes_wanted: bool = True
    ) -> Selection:
        """Window counts (None: everything) through the thread filter and zoom, folded."""
        index = self.index
        index.ensure(g)
        if pairs is None and not view.thread and view.process is None and not view.zoom:
            running = self.running_fold(g)
            return Selection(running.samples, None, running, dict(self.all_threads))
        stack_counts, per_thread = self.counts(self.all if pairs is None else pairs, view)
        total = sum(stack_counts.values())
        root = self.zoom_root(view, g)
        if root is None:
            return Selection(total, {}, Folded(-1), per_thread)
        if root != ROOT:
            depth = len(view.zoom)
            nodes = index.nodes[g]
            stack_counts = {
                s: c
                for s, c in stack_counts.items()
                if len(nodes[s]) >= depth and nodes[s][depth - 1] == root
            }
        folded = fold(stack_counts, index, g, root, nodes_wanted)
        return Selection(total, stack_counts, folded, per_thread)

    def zoom_root(self, view: View, g: int) -> int | None:
        """The trie node View.zoom leads to (ROOT when not zoomed), None if no such path."""
        if not view.zoom:
            return ROOT
        ids = [self.index.key_id(f, g) for f in view.zoom]
        if None in ids:
            return None
        return self.index.tries[g].find([k for k in ids if k is not None])

    def sliding(
        self, buckets: list[Bucket], view: View, g: int, stack_filter: str | None = None
    ) -> Selection:
        """A live window's selection from its sliding fold (see samplers/tree/window.py);
        with `stack_filter`, of the stacks containing a matching function only."""
        self.index.ensure(g)
        root = self.zoom_root(view, g)
        if root is None:  # no such zoom path: an empty fold, but the window's own counts
            return self.select(self.merge(buckets), view, g)
        tids = self.index.selection(view.thread or None, view.process)
        key = (g, view.window_s, tids, root, stack_filter)
        window = self.windows.get(key)
        if window is None:
            if len(self.windows) >= 6:  # a few live views at a time; bound the memory
                self.windows.clear()
            window = self.windows[key] = WindowFold(self.index, g, tids, root, stack_filter)
        folded, per_thread, total = window.sync(buckets)
        return Selection(total, None, folded, per_thread)

    def running_fold(self, g: int) -> Folded:
        running = self.running[g]
        if running is None:  # first by-line view: catch up from everything so far
            stack_counts, _ = self.counts(self.all, View())
            running = self.running[g] = RunningFold(fold(stack_counts, self.index, g))
        return running.folded

    def thread_counts(self, view: View) -> dict[int, int]:
        """Samples per thread id in `view`'s window, whatever its thread, process, zoom
        and filter (what the thread chooser lists)."""
        window = self.window(view)
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

    def merge(self, buckets: Iterable[Bucket]) -> dict[int, int]:
        merged: dict[int, int] = {}
        for b in buckets:
            for key, count in b.counts.items():
                merged[key] = merged.get(key, 0) + count
        return merged

    def baseline(self, view: View, g: int) -> tuple[Selection, Folded] | None:
        """The baseline selection: `view.baseline`'s window (everything when None), same
        thread filter and zoom; and its icicle fold, with the function filter applied too
        so node shares compare like with like. None when it holds no samples."""
        pairs = None if view.baseline is None else self.merge(self.buckets.between(*view.baseline))
        sel = self.select(pairs, replace(view, filter=None), g)
        if sel.total == 0 or sel.folded.root < 0:
            return None
        icicle = sel.folded
        if view.filter:
            counts = sel.stack_counts
            if counts is None:
                counts = self.select(self.all, view, g, nodes_wanted=False).stack_counts or {}
            ok = self.index.stack_matches(view.filter, g)
            icicle = fold({s: c for s, c in counts.items() if ok[s]}, self.index, g, icicle.root)
        return sel, icicle

    def history(
        self,
        buckets: list[Bucket],
        view: View,
        g: int,
        wanted: set[int],
        h_from: float,
        h_to: float,
    ) -> dict[int, tuple[float, ...]]:
        """Share per history point of each function key in `wanted`."""
        # New threads can match a thread pattern, so the thread count is part of the key.
        scoped = bool(view.thread) or view.process is not None
        config = (g, view.thread, view.process, view.zoom, len(self.index.threads) if scoped else 0)
        plain = replace(view, filter=None)
        counted: list[BucketCounts] = []
        default = g == 0 and not scoped and not view.zoom
        for b in buckets:
            if default:
                if b.func_totals is None:
                    b.func_totals = dict(self.select(b.counts, plain, 0, False).folded.total_by_key)
                counted.append(BucketCounts(b.t0, b.t1, (id(b), b.version), b.total, b.func_totals))
                continue
            cached = cast("tuple[int, dict[int, int]] | None", b.cache.get(config))
            if cached is None:
                if len(b.cache) >= 4:  # a few views at once at most; keep memory bounded
                    b.cache.clear()
                sel = self.select(b.counts, plain, g, nodes_wanted=False)
                cached = (sel.total, sel.folded.total_by_key)
                b.cache[config] = cached
            counted.append(BucketCounts(b.t0, b.t1, (id(b), b.version), cached[0], cached[1]))
        cache = self.histories.get((config, view.window_s))
        if cache is None:
            if len(self.histories) >= 4:
                self.histories.clear()
            cache = self.histories[(config, view.window_s)] = HistoryCache()
        bs = self.buckets.bucket_seconds
        return cache.history(counted, h_from, h_to, bs, wanted)
