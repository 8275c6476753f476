"""StackTree: windows, compaction, recursion, filters, zoom, by-line, baselines, history."""

from __future__ import annotations

import pytest
from support_tree import (
    COLD,
    HOT,
    MAIN,
    PARSE,
    T0,
    WORK,
    batch,
    bucket_count,
    child,
    distinct_stacks,
    fr,
    row,
    ten_seconds,
)

from samplers.backends.synthetic import synthetic_batches
from samplers.model import Frame, Health, SystemReading
from samplers.tree.snapshot import View
from samplers.tree.stacktree import FUNCTION_ROWS, StackTree


def test_windows_count_the_last_n_seconds_or_everything() -> None:
    # GIVEN ten one-second batches with a known count per second
    tree = ten_seconds()
    # WHEN a 3 s live window, everything, and a 2 s window ending at T0+5 are asked for
    last3 = tree.snapshot(View(window_s=3))
    everything = tree.snapshot(View(window_s=None))
    past = tree.snapshot(View(window_s=2, end_t=T0 + 5))
    # THEN each counts exactly the samples of its seconds
    assert last3.total_samples == (8 + 1) + (9 + 1) + (10 + 1)
    assert everything.total_samples == sum(range(1, 11)) + 10 == everything.all_samples
    assert past.total_samples == (4 + 1) + (5 + 1)
    assert row(last3, "hot").own == 27 and row(last3, "main").total == 30
    assert everything.first_t == T0 and everything.last_t == T0 + 10
    assert last3.t_end == T0 + 10 and last3.t_start == T0 + 7


def test_functions_sorted_by_own_with_seconds_from_the_rate() -> None:
    # GIVEN the ten-second tree sampled at 100 Hz
    snap = ten_seconds().snapshot(View(window_s=None))
    # WHEN the table is read
    owns = [f.own for f in snap.functions]
    # THEN rows come by own, descending, and seconds are counts / rate
    assert owns == sorted(owns, reverse=True)
    hot = row(snap, "hot")
    assert hot.own == 55 and hot.own_seconds == pytest.approx(0.55)
    assert row(snap, "main").total_seconds == pytest.approx(0.65)
    assert hot.key == Frame("hot", "app.py", 0)


def test_recursion_counts_once_in_total_and_never_exceeds_100_percent() -> None:
    # GIVEN a stack where `parse` recurses three times
    tree = StackTree()
    rec = (MAIN, PARSE, fr("parse", 7), PARSE, HOT)
    tree.add(batch(T0, ("t", rec, 10), ("t", (MAIN, COLD), 10)))
    # WHEN the snapshot is built
    snap = tree.snapshot(View(window_s=None))
    # THEN parse's total is its stacks' samples, once, and no total exceeds the window
    assert row(snap, "parse").total == 10
    assert all(f.total <= snap.total_samples for f in snap.functions)
    # AND the call tree still shows the recursion as a chain
    node = child(child(snap.root, "main"), "parse")
    assert node.total == 10 and child(child(node, "parse"), "parse").total == 10


def test_thread_filter_is_a_case_insensitive_substring_or_regex() -> None:
    # GIVEN samples on three threads
    tree = StackTree()
    tree.add(
        batch(
            T0,
            ("MainThread", (MAIN, HOT), 5),
            ("Worker-1", (WORK, HOT), 3),
            ("worker-2", (WORK, COLD), 2),
        )
    )
    # WHEN filtering by a substring, a regex, and a pattern that is not a valid regex
    sub = tree.snapshot(View(window_s=None, thread="WORKER"))
    rx = tree.snapshot(View(window_s=None, thread=r"worker-[2-9]$"))
    bad = tree.snapshot(View(window_s=None, thread="worker-("))
    # THEN only matching threads count, and the thread list still shows every thread
    assert sub.total_samples == 5 and row(sub, "hot").own == 3
    assert rx.total_samples == 2 and [f.key.function for f in rx.functions if f.own] == ["cold"]
    assert bad.total_samples == 0
    assert sub.threads == (("MainThread", 5), ("Worker-1", 3), ("worker-2", 2))


def test_function_filter_limits_rows_and_icicle_but_not_the_total() -> None:
    # GIVEN stacks with and without `parse`
    tree = StackTree()
    tree.add(batch(T0, ("t", (MAIN, PARSE, HOT), 4), ("t", (MAIN, COLD), 6)))
    # WHEN filtering on "PARS" (function name) and on the file name
    snap = tree.snapshot(View(window_s=None, filter="PARS"))
    by_file = tree.snapshot(View(window_s=None, filter="app\\.py"))
    # THEN only parse is listed, with its real counts, the icicle holds only stacks
    # through parse, and total_samples is the whole window
    assert [f.key.function for f in snap.functions] == ["parse"]
    assert row(snap, "parse").total == 4
    assert snap.root.total == 4 and [c.name for c in snap.root.children] == ["main (app.py)"]
    assert snap.total_samples == 10
    assert len(by_file.functions) == 4


def test_zoom_scopes_call_tree_and_table_to_the_path() -> None:
    # GIVEN main>work>hot, main>work>parse>hot and main>cold
    tree = StackTree()
    tree.add(
        batch(
            T0,
            ("t", (MAIN, WORK, HOT), 3),
            ("t", (MAIN, WORK, PARSE, HOT), 2),
            ("t", (MAIN, COLD), 5),
        )
    )
    # WHEN zooming into main > work (frames as the call tree gives them, line 0)
    zoom = (Frame("main", "app.py"), Frame("work", "app.py"))
    snap = tree.snapshot(View(window_s=None, zoom=zoom))
    # THEN the root is `work` with 5 samples, and the table covers only that subtree
    assert snap.root.frame == Frame("work", "app.py") and snap.root.total == 5
    assert {f.key.function for f in snap.functions} == {"work", "hot", "parse"}
    assert row(snap, "hot").own == 5 and row(snap, "work").total == 5
    assert snap.total_samples == 10
    # AND a path that does not exist gives an empty zoomed root, not an error
    nope = (Frame("main", "app.py"), Frame("nope"))
    gone = tree.snapshot(View(window_s=None, zoom=nope))
    live = tree.snapshot(View(window_s=5, zoom=nope))
    assert gone.root.total == 0 and gone.functions == () and gone.total_samples == 10
    assert live.root.total == 0 and live.total_samples == 10 and live.threads == (("t", 10),)


def test_by_line_tells_lines_of_one_function_apart() -> None:
    # GIVEN one function sampled at two lines
    tree = StackTree()
    tree.add(batch(T0, ("t", (MAIN, fr("hot", 10)), 3), ("t", (MAIN, fr("hot", 20)), 1)))
    # WHEN viewed by function and by line
    plain = tree.snapshot(View(window_s=None))
    lines = tree.snapshot(View(window_s=None, by_line=True))
    # THEN by function there is one row, by line two with their lines
    assert row(plain, "hot").own == 4
    hot_rows = [(f.key.line, f.own) for f in lines.functions if f.key.function == "hot"]
    assert hot_rows == [(10, 3), (20, 1)]
    assert {c.frame.line for c in child(lines.root, "main").children if c.frame} == {10, 20}


def test_baseline_deltas_say_what_grew_and_what_shrank() -> None:
    # GIVEN five seconds mostly `hot`, then five seconds mostly `cold`
    tree = StackTree()
    for i in range(10):
        hot, cold = (9, 1) if i < 5 else (2, 8)
        tree.add(batch(T0 + i, ("t", (MAIN, HOT), hot), ("t", (MAIN, COLD), cold)))
    # WHEN the last 5 s are compared with the first 5 s
    snap = tree.snapshot(View(window_s=5, baseline=(T0, T0 + 5)))
    # THEN cold grew by 70 points, hot shrank by 70, and the call tree agrees
    assert row(snap, "cold").delta_total == pytest.approx(70.0)
    assert row(snap, "hot").delta_total == pytest.approx(-70.0)
    main = child(snap.root, "main")
    assert child(main, "cold").delta == pytest.approx(70.0) and main.delta == pytest.approx(0.0)
    # AND without a baseline there are no deltas
    assert row(tree.snapshot(View(window_s=5)), "cold").delta_total is None


def test_baseline_of_another_tree_compares_two_profiles() -> None:
    # GIVEN a tree all `hot` and another half `hot`
    before, after = StackTree(), StackTree()
    before.add(batch(T0, ("t", (MAIN, HOT), 10)))
    after.add(batch(T0, ("t", (MAIN, HOT), 5), ("t", (MAIN, COLD), 5)))
    # WHEN the second is viewed against the first
    snap = after.snapshot(View(window_s=None), baseline_of=before)
    # THEN deltas are in points against the other profile
    assert row(snap, "hot").delta_total == pytest.approx(-50.0)
    assert row(snap, "cold").delta_total == pytest.approx(50.0)
    assert child(child(snap.root, "main"), "cold").delta == pytest.approx(50.0)


def test_history_is_the_share_of_each_second() -> None:
    # GIVEN `hot` in all samples of even seconds and a quarter of odd seconds
    tree = StackTree()
    for i in range(6):
        samples = (
            [("t", (MAIN, HOT), 4)]
            if i % 2 == 0
            else [("t", (MAIN, HOT), 1), ("t", (MAIN, COLD), 3)]
        )
        tree.add(batch(T0 + i, *samples))
    # WHEN a 4 s window is shown
    snap = tree.snapshot(View(window_s=4))
    # THEN hot's history has one point per second, oldest first
    assert row(snap, "hot").history == pytest.approx((1.0, 0.25, 1.0, 0.25))
    assert row(snap, "main").history == pytest.approx((1.0, 1.0, 1.0, 1.0))


def test_long_windows_resample_history_to_at_most_60_points() -> None:
    # GIVEN 300 seconds where hot's share steps from 0 to 1 halfway
    tree = StackTree()
    for i in range(300):
        tree.add(batch(T0 + i, ("t", (MAIN, HOT if i >= 150 else COLD), 2)))
    # WHEN everything is shown
    hist = row(tree.snapshot(View(window_s=None)), "hot").history
    # THEN 60 points, 0 for the first half and 1 for the second
    assert len(hist) == 60
    assert hist[:30] == pytest.approx([0.0] * 30) and hist[30:] == pytest.approx([1.0] * 30)


def test_a_batch_longer_than_two_buckets_is_spread_exactly() -> None:
    # GIVEN one batch of 101 samples over 10 seconds (a saved profile read whole)
    tree = StackTree()
    tree.add(batch(T0, ("t", (MAIN, HOT), 101), length=10.0))
    # WHEN the last 5 s and everything are asked for
    # THEN about half lands in the last 5 s and none is lost or invented
    assert tree.snapshot(View(window_s=None)).total_samples == 101
    assert tree.snapshot(View(window_s=5)).total_samples in (50, 51)


def test_compaction_bounds_buckets_and_keeps_everything_exact() -> None:
    # GIVEN a tree keeping 20 fine buckets, then 10 s buckets up to 5 of them
    tree = StackTree(max_buckets=20, coarse_seconds=10, max_coarse=5)
    batches = list(synthetic_batches(n_stacks=300, seconds=400, rate=20, threads=2, seed=3))
    expected: dict[tuple[str, str], int] = {}
    for b in batches:
        tree.add(b)
        for s in b.samples:
            for name in {(f.function, f.file) for f in s.stack}:
                expected[name] = expected.get(name, 0) + s.count
        # THEN the bucket count never exceeds fine + one coarse interval + coarse + ancient
        assert bucket_count(tree) <= 20 + 9 + 5 + 1
    # AND everything is still exact after 400 s, and recent windows are still per second
    snap = tree.snapshot(View(window_s=None))
    assert snap.total_samples == sum(b.count for b in batches)
    assert {(f.key.function, f.key.file): f.total for f in snap.functions} == expected
    assert tree.snapshot(View(window_s=3)).total_samples == sum(b.count for b in batches[-3:])


def test_snapshots_are_cached_until_something_changes() -> None:
    # GIVEN a tree with data
    tree = ten_seconds()
    first = tree.snapshot(View())
    # WHEN the same view is asked again, then after health, a reading and a batch arrive
    again = tree.snapshot(View())
    tree.set_health(Health(samples=1, state="running"))
    with_health = tree.snapshot(View())
    tree.add_reading(SystemReading(t=T0 + 9.5, cpu_percent=50.0))
    with_reading = tree.snapshot(View())
    tree.add(batch(T0 + 10, ("t", (MAIN, HOT), 1)))
    newer = tree.snapshot(View())
    # THEN the unchanged answer is the same object, and each change gives a newer version
    assert again is first
    assert first.version < with_health.version < with_reading.version < newer.version
    assert with_health.health == Health(samples=1, state="running")
    assert with_reading.readings == (SystemReading(t=T0 + 9.5, cpu_percent=50.0),)
    assert with_health.functions is first.functions  # health alone does not rebuild


def test_readings_are_bounded_and_reset_forgets_samples() -> None:
    # GIVEN a tree keeping 5 readings
    tree = StackTree(max_readings=5)
    tree.add(batch(T0, ("t", (MAIN, HOT), 1)))
    for i in range(20):
        tree.add_reading(SystemReading(t=T0 + i * 0.05))
    # WHEN everything is shown, then the tree is reset
    snap = tree.snapshot(View(window_s=None))
    tree.reset()
    empty = tree.snapshot(View(window_s=None))
    # THEN only the newest 5 readings are kept, and reset leaves an empty, usable tree
    assert [r.t for r in snap.readings] == pytest.approx([T0 + i * 0.05 for i in range(15, 20)])
    assert empty.total_samples == 0 and empty.functions == () and empty.root.total == 0
    assert empty.version > snap.version


def test_interning_holds_one_copy_of_equal_stacks() -> None:
    # GIVEN the same stack sent as fresh Frame objects in every batch
    tree = StackTree()
    for i in range(50):
        tree.add(batch(T0 + i, ("t", (Frame("main", "a.py", 1), Frame("hot", "a.py", 2)), 1)))
    # WHEN counted
    # THEN one distinct stack, 50 samples
    assert distinct_stacks(tree) == 1
    assert tree.snapshot(View(window_s=None)).total_samples == 50


def test_the_table_lists_the_hottest_rows_by_own_and_by_total() -> None:
    # GIVEN more distinct functions than the table lists: many leaves under one caller
    tree = StackTree()
    leaves = [fr(f"leaf{i}") for i in range(2 * FUNCTION_ROWS + 50)]
    tree.add(batch(T0, *(("t", (MAIN, WORK, leaf), 1 + i % 3) for i, leaf in enumerate(leaves))))
    # WHEN the table is built
    snap = tree.snapshot(View(window_s=None))
    names = {f.key.function for f in snap.functions}
    # THEN it is capped, keeps the callers (hot by total, no own time) and the leaves with
    # most own time, and a filter still finds a row beyond the cap
    assert len(snap.functions) <= 2 * FUNCTION_ROWS
    assert {"main", "work"} <= names
    listed = {f.key.function: f.own for f in snap.functions if f.key.function.startswith("leaf")}
    left_out = [1 + i % 3 for i, leaf in enumerate(leaves) if leaf.function not in listed]
    assert left_out and min(listed.values()) >= max(left_out)
    assert [
        f.key.function for f in tree.snapshot(View(window_s=None, filter="^leaf0$")).functions
    ] == ["leaf0"]


def test_live_history_ends_with_the_newest_chunk_not_an_empty_second() -> None:
    # GIVEN py-spy-like chunks that start 0.3 s into a second (each lands in the bucket
    # of its midpoint, so the second holding the newest timestamp is still empty)
    tree = StackTree()
    for i in range(10):
        tree.add(batch(T0 + i + 0.3, ("t", (MAIN, HOT), 10)))
    # WHEN the live 5 s window is shown
    snap = tree.snapshot(View(window_s=5))
    # THEN it holds five full seconds and hot's history has no dip at the end
    assert snap.total_samples == 50
    assert row(snap, "hot").history == pytest.approx((1.0,) * 5)
    assert row(tree.snapshot(View(window_s=None)), "hot").history[-1] == pytest.approx(1.0)


def test_baseline_deltas_under_a_function_filter_compare_like_with_like() -> None:
    # GIVEN parse in half the samples of the first 5 s and 80% of the last 5 s
    tree = StackTree()
    for i in range(10):
        through = 5 if i < 5 else 8
        tree.add(
            batch(T0 + i, ("t", (MAIN, PARSE, HOT), through), ("t", (MAIN, COLD), 10 - through))
        )
    # WHEN the last 5 s are compared with the first, filtered on parse
    snap = tree.snapshot(View(window_s=5, baseline=(T0, T0 + 5), filter="parse"))
    # THEN parse's row and the filtered icicle both grew by 30 points
    assert [(f.key.function, f.delta_total) for f in snap.functions] == [
        ("parse", pytest.approx(30.0))
    ]
    main = child(snap.root, "main")
    assert main.total == 40 and main.delta == pytest.approx(30.0)
