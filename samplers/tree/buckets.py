"""Time buckets of the StackTree: per-second counts, compacted as they age.

Recent time is kept per bucket (1 s by default); whole minutes that fall behind the
fine horizon are merged into one per-minute bucket; per-minute buckets beyond a bound are
merged into a single "ancient" aggregate. Counts are never dropped, only coarsened, so the
"everything" window stays exact while the number of buckets stays bounded. The store also
says which buckets make up a window (`BucketStore.window`).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator

_FAR_PAST = -(1 << 62)


class Bucket:
    """Samples per packed (stack id, thread id) key over [t0, t1)."""

    __slots__ = ("t0", "t1", "counts", "total", "cache", "version", "func_totals")

    def __init__(self, t0: float, t1: float) -> None:
        self.t0 = t0
        self.t1 = t1
        self.counts: dict[int, int] = {}
        self.total = 0
        # Derived per-view data (function totals for history), dropped on any change.
        self.cache: dict[object, object] = {}
        self.version = 0  # bumped before every change, so derived data can tell it is stale
        # Samples per function (function+file keys, all threads), kept up to date as
        # batches land so the default view's history never refolds a bucket; None when
        # unknown (a batch was spread over several buckets), then computed on demand.
        self.func_totals: dict[int, int] | None = {}

    def touch(self) -> None:
        self.version += 1
        self.cache.clear()

    def add(self, key: int, count: int) -> None:
        counts = self.counts
        counts[key] = counts.get(key, 0) + count
        self.total += count

    def absorb(self, other: Bucket) -> None:
        counts = self.counts
        for key, count in other.counts.items():
            counts[key] = counts.get(key, 0) + count
        self.total += other.total
        mine, theirs = self.func_totals, other.func_totals
        if mine is not None and theirs is not None:
            for k, c in theirs.items():
                mine[k] = mine.get(k, 0) + c
        else:
            self.func_totals = None
        self.t0 = min(self.t0, other.t0)
        self.t1 = max(self.t1, other.t1)
        self.touch()


class BucketStore:
    """Fine buckets keyed by index (floor(t / bucket_seconds)), coarse buckets keyed by
    coarse index, and one ancient bucket. Holds at most
    max_fine + per_coarse - 1 + max_coarse + 1 buckets."""

    def __init__(
        self, bucket_seconds: float, max_fine: int, coarse_seconds: float, max_coarse: int
    ) -> None:
        if bucket_seconds <= 0:
            raise ValueError("bucket_seconds must be positive")
        self.bucket_seconds = bucket_seconds
        self.max_fine = max(1, max_fine)
        # Coarse buckets are a whole number of fine ones so a minute compacts cleanly.
        self.per_coarse = max(1, round(coarse_seconds / bucket_seconds))
        self.max_coarse = max(0, max_coarse)
        self.fine: dict[int, Bucket] = {}
        self.coarse: dict[int, Bucket] = {}
        self.ancient: Bucket | None = None
        self.fine_from = _FAR_PAST  # fine indices below this live in coarse/ancient
        self.coarse_from = _FAR_PAST  # coarse indices below this live in ancient
        self.newest_index = _FAR_PAST

    def __len__(self) -> int:
        return len(self.fine) + len(self.coarse) + (self.ancient is not None)

    def index_of(self, t: float) -> int:
        return math.floor(t / self.bucket_seconds)

    def bucket_for(self, index: int) -> Bucket:
        """The bucket that currently holds fine index `index`, created when missing."""
        bs = self.bucket_seconds
        if index >= self.fine_from:
            b = self.fine.get(index)
            if b is None:
                b = self.fine[index] = Bucket(index * bs, (index + 1) * bs)
            b.touch()
            return b
        cidx = index // self.per_coarse
        if cidx >= self.coarse_from:
            b = self.coarse.get(cidx)
            if b is None:
                width = self.per_coarse * bs
                b = self.coarse[cidx] = Bucket(cidx * width, (cidx + 1) * width)
            b.touch()
            return b
        if self.ancient is None:
            self.ancient = Bucket(index * bs, (index + 1) * bs)
        a = self.ancient
        a.t0 = min(a.t0, index * bs)
        a.t1 = max(a.t1, (index + 1) * bs)
        a.touch()
        return a

    def targets(self, t_start: float, t_end: float) -> tuple[list[Bucket], list[float]]:
        """Buckets a batch over [t_start, t_end) goes into, with cumulative weights.

        A batch spanning at most two buckets (py-spy's ~1 s chunks) goes whole into the
        bucket of its midpoint: counts stay integers and a chunk is never split in two.
        Longer batches (a saved profile read as one batch) are spread by overlap."""
        bs = self.bucket_seconds
        lo = self.index_of(t_start)
        hi = max(lo, math.ceil(t_end / bs) - 1)
        if hi - lo <= 1 or t_end <= t_start:
            index = self.index_of((t_start + max(t_start, t_end)) / 2)
            self.newest_index = max(self.newest_index, index)
            return [self.bucket_for(index)], [1.0]
        self.newest_index = max(self.newest_index, hi)
        span = t_end - t_start
        buckets: list[Bucket] = []
        cum: list[float] = []
        acc = 0.0
        for index in range(lo, hi + 1):
            overlap = min(t_end, (index + 1) * bs) - max(t_start, index * bs)
            acc += max(0.0, overlap) / span
            buckets.append(self.bucket_for(index))
            cum.append(acc)
        cum[-1] = 1.0
        return buckets, cum

    @staticmethod
    def spread(buckets: list[Bucket], cum: list[float], key: int, count: int) -> None:
        """Add `count` to `buckets` in proportion to the cumulative weights, exactly
        (cumulative rounding) and in O(min(count, len(buckets)))."""
        if len(buckets) == 1:
            buckets[0].add(key, count)
            return
        if count >= len(buckets):
            prev = 0
            for b, w in zip(buckets, cum, strict=True):
                upto = math.floor(count * w + 0.5)
                if upto > prev:
                    b.add(key, upto - prev)
                prev = upto
            return
        last = len(buckets) - 1
        for unit in range(count):
            buckets[min(last, bisect_left(cum, (unit + 0.5) / count))].add(key, 1)

    def compact(self) -> None:
        """Merge whole coarse intervals behind the fine horizon, then the oldest coarse
        buckets beyond the bound into the ancient one."""
        horizon = self.newest_index - self.max_fine + 1
        new_from = (horizon // self.per_coarse) * self.per_coarse
        if new_from > self.fine_from:
            for index in sorted(i for i in self.fine if i < new_from):
                b = self.fine.pop(index)
                cidx = index // self.per_coarse
                if cidx >= self.coarse_from:
                    dst = self.coarse.get(cidx)
                    if dst is None:
                        width = self.per_coarse * self.bucket_seconds
                        dst = self.coarse[cidx] = Bucket(cidx * width, (cidx + 1) * width)
                    dst.absorb(b)
                else:
                    self._to_ancient(b)
            self.fine_from = new_from
        while len(self.coarse) > self.max_coarse:
            cidx = min(self.coarse)
            self._to_ancient(self.coarse.pop(cidx))
            self.coarse_from = max(self.coarse_from, cidx + 1)

    def _to_ancient(self, b: Bucket) -> None:
        if self.ancient is None:
            self.ancient = Bucket(b.t0, b.t1)
        self.ancient.absorb(b)

    def all_buckets(self) -> Iterator[Bucket]:
        if self.ancient is not None:
            yield self.ancient
        for cidx in sorted(self.coarse):
            yield self.coarse[cidx]
        for index in sorted(self.fine):
            yield self.fine[index]

    def between(self, t0: float, t1: float) -> list[Bucket]:
        """Buckets making up [t0, t1), oldest first. A fine bucket belongs when its
        midpoint does; a coarser one when it overlaps at least half of the shorter of
        itself and the range (time behind the fine horizon is only known that coarsely)."""
        if t1 <= t0:
            return []
        bs = self.bucket_seconds
        out: list[Bucket] = []
        for b in self.all_buckets():
            if b.t1 - b.t0 <= bs * 1.000001:
                mid = (b.t0 + b.t1) / 2
                if t0 <= mid < t1:
                    out.append(b)
                continue
            overlap = min(b.t1, t1) - max(b.t0, t0)
            if overlap > 0 and overlap >= 0.5 * min(b.t1 - b.t0, t1 - t0):
                out.append(b)
        return out

    def window(
        self,
        first_t: float | None,
        last_t: float | None,
        window_s: float | None,
        end_t: float | None,
    ) -> tuple[list[Bucket], float, float, float, float] | None:
        """(buckets, t_start, t_end, history from, history to) of the window of
        `window_s` seconds (None: everything) ending at `end_t` (None: live), for samples
        seen from `first_t` to `last_t`.

        A live window ends with the newest bucket that holds samples: a chunk lands in
        the bucket of its midpoint, so the bucket of `last_t` is usually still empty and
        would show as a dip at the end of every history."""
        if first_t is None or last_t is None:
            return None
        bs = self.bucket_seconds
        end = last_t if end_t is None else end_t
        if end_t is None and self.fine:
            # ... but it follows the clock: batches that brought no sample in this mode
            # (a quiet target) still move last_t, and the window with it
            end_index = max(self.newest_index, math.floor(end / bs) - 1)
        else:
            end_index = math.ceil(end / bs) - 1
        stop = (end_index + 1) * bs
        if window_s is None:
            buckets = list(self.all_buckets())
            if end_t is not None:
                buckets = [b for b in buckets if b.t0 < end]
            h_from = math.floor(first_t / bs) * bs
            return buckets, first_t, end, h_from, max(stop, h_from + bs)
        n = max(1, round(window_s / bs))
        start = (end_index - n + 1) * bs
        buckets = self.between(start, stop)
        h_from = max(start, math.floor(first_t / bs) * bs)
        return buckets, max(start, first_t), end, min(h_from, stop - bs), stop


def merged(buckets: Iterable[Bucket]) -> dict[int, int]:
    """The packed counts of `buckets` added up."""
    out: dict[int, int] = {}
    for b in buckets:
        for key, count in b.counts.items():
            out[key] = out.get(key, 0) + count
    return out
