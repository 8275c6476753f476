"""Per-function history for the StackTree: each function's share of the samples of each
point of the window, oldest first.

A point is `point_width` seconds: the bucket length while the window holds at most
~60 buckets, else a "nice" multiple (2, 5, 10, 30, 60 s ...) chosen so that fine buckets
fall wholly into one point and per-minute buckets into one or an even number of points.
Points are aligned to absolute multiples of their width, so a point that no longer
changes keeps the same members from one snapshot to the next and its merged counts are
cached; only the point holding the newest bucket is merged again.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

_NICE = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
MAX_POINTS = 60


def point_width(span: float, bucket_seconds: float, max_points: int = MAX_POINTS) -> float:
    raw = max(span / max_points, bucket_seconds)
    nice = next((n for n in _NICE if n >= raw), 60 * math.ceil(raw / 60))
    return bucket_seconds * max(1, math.ceil(nice / bucket_seconds - 1e-9))


@dataclass(frozen=True, slots=True)
class BucketCounts:
    """What history needs of one bucket: its span, identity and derived counts."""

    t0: float
    t1: float
    ident: tuple[int, int]  # (id, version): changes whenever the bucket's counts do
    total: int  # samples in the view's selection (thread filter)
    by_key: Mapping[int, int]  # function key -> total samples


class HistoryCache:
    """Merged counts of closed points, for one view configuration."""

    def __init__(self) -> None:
        self._points: dict[tuple[float, int], tuple[object, float, Mapping[int, float]]] = {}

    def history(
        self,
        buckets: list[BucketCounts],
        h_from: float,
        h_to: float,
        bucket_seconds: float,
        wanted: Collection[int],
    ) -> dict[int, tuple[float, ...]]:
        """Share (0..1) per point for each key in `wanted`. The last bucket is taken to
        be the open one (it may still grow), so its point is never cached."""
        width = point_width(h_to - h_from, bucket_seconds)
        first = math.floor(h_from / width + 1e-9)
        last = max(first, math.ceil(h_to / width - 1e-9) - 1)
        n = last - first + 1
        closed: list[list[tuple[BucketCounts, float]]] = [[] for _ in range(n)]
        open_part: list[tuple[int, BucketCounts, float]] = []
        for i, b in enumerate(buckets):
            for p, w in _spread(b.t0, b.t1, width, first, last):
                if i == len(buckets) - 1:
                    open_part.append((p, b, w))
                else:
                    closed[p].append((b, w))
        kept: dict[tuple[float, int], tuple[object, float, Mapping[int, float]]] = {}
        merged: list[tuple[float, Mapping[int, float]]] = []
        for p, members in enumerate(closed):
            key = (width, first + p)
            signature = tuple((b.ident, w) for b, w in members)
            hit = self._points.get(key)
            if hit is None or hit[0] != signature:
                total = sum(b.total * w for b, w in members)
                if len(members) == 1 and members[0][1] == 1.0:  # one whole bucket: as is
                    hit = (signature, total, members[0][0].by_key)
                else:
                    hit = (signature, total, _merge(members))
            kept[key] = hit
            merged.append((hit[1], hit[2]))
        self._points = kept  # points that left the window are forgotten
        for p, b, w in open_part:
            total, counts = merged[p]
            counts = dict(counts)
            _add(counts, b.by_key, w)
            merged[p] = (total + b.total * w, counts)
        lookups = [
            (counts.get, total) if total > 0 else (_NOTHING.get, 1.0) for total, counts in merged
        ]
        # Weighted sums may round a hair above their point's total: clamp.
        return {k: tuple([min(1.0, get(k, 0.0) / total) for get, total in lookups]) for k in wanted}


_NOTHING: dict[int, float] = {}


def _merge(members: Iterable[tuple[BucketCounts, float]]) -> dict[int, float]:
    out: dict[int, float] = {}
    for b, w in members:
        _add(out, b.by_key, w)
    return out


def _add(out: dict[int, float], counts: Mapping[int, int], w: float) -> None:
    get = out.get
    if w == 1.0:
        for k, c in counts.items():
            out[k] = get(k, 0.0) + c
    else:
        for k, c in counts.items():
            out[k] = get(k, 0.0) + c * w


def _spread(t0: float, t1: float, width: float, first: int, last: int) -> list[tuple[int, float]]:
    """(point offset, fraction) pairs of a bucket over [t0, t1), by overlap; a bucket
    outside the range is clamped to the nearest point so no sample is lost."""
    lo = math.floor(t0 / width + 1e-9)
    hi = max(lo, math.ceil(t1 / width - 1e-9) - 1)
    if lo == hi or t1 <= t0:
        return [(min(last, max(first, lo)) - first, 1.0)]
    parts: dict[int, float] = {}
    span = t1 - t0
    for i in range(lo, hi + 1):
        overlap = min(t1, (i + 1) * width) - max(t0, i * width)
        if overlap > 0:
            p = min(last, max(first, i)) - first
            parts[p] = parts.get(p, 0.0) + overlap / span
    return list(parts.items())
