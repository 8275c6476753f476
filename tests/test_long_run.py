"""A simulated hour (10 Hz: the bucket count does not depend on the rate), replayed as
fast as possible into a StackTree with its default settings: per-second buckets are
compacted (not leaked), interned tables hold each distinct stack and frame once, and
nothing sampled is lost. RSS over a real hour at 100 Hz is `make bench` figure 7; this
checks the structures that bound it."""

from __future__ import annotations

from support_tree import bucket_count, distinct_stacks

from samplers.backends.replay import ReplaySampler
from samplers.backends.synthetic import synthetic_batches
from samplers.model import Metadata, Profile
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree

N_STACKS = 400
SECONDS = 3600
# defaults: 300 one-second buckets, then 60 s buckets up to 30, then one aggregate;
# at most one coarse interval (59 s) still waits to be folded
BUCKET_BOUND = 300 + 59 + 30 + 1


def test_an_hour_keeps_buckets_and_interned_tables_bounded() -> None:
    batches = tuple(synthetic_batches(N_STACKS, SECONDS, rate=10.0, threads=1, seed=7))
    profile = Profile(Metadata(rate=10.0, mode="cpu"), batches)
    sampler = ReplaySampler(profile, speed=0)  # as fast as it can go
    sampler.start()
    tree = StackTree()
    buckets_by_minute: list[int] = []
    seen = 0
    while (batch := sampler.poll(0.0)) is not None:
        tree.add(batch)
        seen += 1
        if seen % 60 == 0:
            buckets_by_minute.append(bucket_count(tree))
            # THEN at no moment does the bucket count pass its bound
            assert bucket_count(tree) <= BUCKET_BOUND
    assert seen == SECONDS
    # AND after the first 35 minutes (5 of seconds + 30 of minutes) it stays flat
    assert max(buckets_by_minute[36:]) - min(buckets_by_minute[36:]) <= 60
    assert buckets_by_minute[-1] <= buckets_by_minute[35] + 1
    # AND each distinct stack and frame is held once, however often it was seen
    index = tree._data.index
    assert distinct_stacks(tree) == len({s.stack for b in batches for s in b.samples})
    assert distinct_stacks(tree) <= N_STACKS
    assert len(index.frames) == len({f for b in batches for s in b.samples for f in s.stack})
    # AND nothing was lost: the whole hour and its last 30 s count exactly
    total = sum(b.count for b in batches)
    assert tree.snapshot(View(window_s=None)).total_samples == total
    assert tree.snapshot(View(window_s=30)).total_samples == sum(b.count for b in batches[-30:])
