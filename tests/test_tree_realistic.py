"""StackTree on realistic and large profiles: shares stay within 100 %, live windows
slide to the answer a fresh count gives, deep recursion on many threads stays exact."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support_tree import MAIN, PARSE, T0, batch, row

from samplers.backends.synthetic import synthetic_batches
from samplers.model import Frame
from samplers.tree.snapshot import CallNode, View
from samplers.tree.stacktree import StackTree


def test_shares_never_exceed_100_percent_on_a_realistic_profile() -> None:
    # GIVEN a synthetic profile with recursion, threads and many stacks
    tree = StackTree()
    for b in synthetic_batches(n_stacks=1000, seconds=20, rate=50, threads=3, seed=1):
        tree.add(b)
    # WHEN viewed in several ways
    for view in (View(), View(window_s=None), View(thread="worker"), View(by_line=True)):
        snap = tree.snapshot(view)
        # THEN every total and history point is a share of at most 1, and the call tree adds up
        assert all(f.own <= f.total <= snap.total_samples for f in snap.functions)
        assert all(0.0 <= h <= 1.0 for f in snap.functions for h in f.history)
        assert snap.root.total == snap.total_samples
        assert sum(c.total for c in snap.root.children) + snap.root.own <= snap.root.total


def _shape(node: CallNode) -> tuple[object, ...]:
    return (node.frame, node.total, node.own, tuple(_shape(c) for c in node.children))


@pytest.mark.parametrize(
    "view",
    [
        View(window_s=5),
        View(window_s=None, thread="worker"),
        View(window_s=8, thread="main", by_line=True),
        View(window_s=5, filter="render"),
        View(window_s=5, zoom=(Frame("<module>", "app/main.py"), Frame("main", "app/main.py"))),
    ],
)
def test_live_windows_slide_to_the_same_answer_as_a_fresh_count(view: View) -> None:
    # GIVEN a tree fed second by second, compacting early, one batch arriving late
    tree = StackTree(max_buckets=6, coarse_seconds=3, max_coarse=2)
    batches = list(synthetic_batches(n_stacks=200, seconds=25, rate=20, threads=3, seed=5))
    late = batches.pop(15)
    for i, b in enumerate(batches):
        tree.add(b)
        if i == 20:
            tree.add(late)
        # WHEN the live view is built incrementally and the same window is counted afresh
        live = tree.snapshot(view)
        assert tree.last_t is not None
        fresh = tree.snapshot(replace(view, end_t=tree.last_t))
        # THEN both agree on every count
        assert live.total_samples == fresh.total_samples
        assert [(f.key, f.own, f.total) for f in live.functions] == [
            (f.key, f.own, f.total) for f in fresh.functions
        ]
        assert _shape(live.root) == _shape(fresh.root)
        assert live.threads == fresh.threads


def test_a_thousand_deep_recursion_on_200_threads_stays_correct() -> None:
    # GIVEN a 1000-frame recursive stack sampled on 200 threads
    tree = StackTree()
    deep = (MAIN, *([PARSE] * 999))
    tree.add(batch(T0, *((f"thread-{i}", deep, 1) for i in range(200))))
    # WHEN the snapshot is built, all threads and one thread
    snap = tree.snapshot(View(window_s=None))
    one = tree.snapshot(View(window_s=None, thread="^thread-7$"))
    # THEN parse counts once per sample, the call tree is 1000 deep, and 200 threads show
    assert row(snap, "parse").total == 200 == snap.total_samples
    node, depth = snap.root, 0
    while node.children:
        node, depth = node.children[0], depth + 1
    assert depth == 1000 and node.own == 200
    assert len(snap.threads) == 200 and one.total_samples == 1
