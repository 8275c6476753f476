"""Run in a subprocess by bench/engine.py: one simulated hour at 100 Hz with 10k distinct
stacks, replayed through the ReplaySampler at full speed into a StackTree, the way the
app's worker does (a snapshot of the default view every ten seconds of profile). Prints
RSS at checkpoints as one JSON line. Batches are generated lazily so only flametop's own
structures are in memory."""

from __future__ import annotations

import json
import resource

from samplers.backends.replay import ReplaySampler
from samplers.backends.synthetic import synthetic_batches
from samplers.clock import FakeClock
from samplers.model import Metadata, Profile
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree

MINUTES = (1, 5, 10, 30, 60)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    tree = StackTree()
    rss: list[float] = []
    batches = synthetic_batches(n_stacks=10_000, seconds=3600, rate=100, threads=1, seed=0)
    for minute in range(60):
        # one minute at a time through the replay sampler keeps the profile itself small
        chunk = Profile(Metadata(rate=100.0), tuple(next(batches) for _ in range(60)))
        replay = ReplaySampler(chunk, speed=0, clock=FakeClock())
        for i, batch in enumerate(replay):
            tree.add(batch)
            tree.set_health(replay.health)
            if i % 10 == 0:
                tree.snapshot(View())
        if minute + 1 in MINUTES:
            tree.snapshot(View(window_s=None))
            rss.append(round(rss_mb(), 1))
    print(
        json.dumps(
            {
                "minutes": MINUTES,
                "rss_mb": rss,
                # what bounds the tree's memory, read from its parts (as the tests do)
                "buckets": len(tree._data.buckets),
                "stacks": len(tree._data.index.stacks),
            }
        )
    )


if __name__ == "__main__":
    main()
