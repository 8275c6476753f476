"""Frames, batches and lookups shared by the StackTree tests."""

from __future__ import annotations

from collections.abc import Sequence

from samplers.model import Frame, Sample, SampleBatch
from samplers.tree.snapshot import CallNode, FunctionStat, Snapshot
from samplers.tree.stacktree import StackTree

T0 = 1_000.0


def fr(name: str, line: int = 1, file: str = "app.py") -> Frame:
    return Frame(name, file, line)


MAIN, WORK, HOT, COLD, PARSE = fr("main"), fr("work"), fr("hot"), fr("cold"), fr("parse")


def batch(t: float, *samples: tuple[str, Sequence[Frame], int], length: float = 1.0) -> SampleBatch:
    return SampleBatch(
        t, t + length, tuple(Sample(th, tuple(st), c) for th, st, c in samples), "cpu", 100.0
    )


def row(snap: Snapshot, name: str) -> FunctionStat:
    matches = [f for f in snap.functions if f.key.function == name]
    assert len(matches) == 1, f"{name}: {[f.key for f in snap.functions]}"
    return matches[0]


def child(node: CallNode, name: str) -> CallNode:
    return next(c for c in node.children if c.frame is not None and c.frame.function == name)


def ten_seconds() -> StackTree:
    """Second i (0..9) has i+1 samples of main>work>hot and 1 of main>cold."""
    tree = StackTree()
    for i in range(10):
        tree.add(
            batch(T0 + i, ("MainThread", (MAIN, WORK, HOT), i + 1), ("MainThread", (MAIN, COLD), 1))
        )
    return tree


# What bounds a tree's memory, read from its parts: the product never needs these counts,
# the memory tests (and bench/memory_probe.py) do.


def distinct_stacks(tree: StackTree) -> int:
    """Stacks interned so far: each distinct stack is held once, however often seen."""
    return len(tree._data.index.stacks)


def bucket_count(tree: StackTree) -> int:
    """Time buckets held now: fine, coarse and the one ancient aggregate."""
    return len(tree._data.buckets)
