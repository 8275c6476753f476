"""Processes as a dimension of the stack tree: scoping by pid, same-named threads of
different processes kept apart, pids read off py-spy's `process PID:` roots, and the
active share per thread."""

from __future__ import annotations

from support_tree import HOT, MAIN, T0, WORK, batch, fr, row

from samplers.model import Frame, Sample, SampleBatch
from samplers.processes import process_of
from samplers.tree.modes import ModeTrees
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree

POOL = fr("pool_worker")


def _two_processes(t: float = T0) -> SampleBatch:
    """Parent 100 waits in main; children 201 and 202 (both `MainThread`) run hot."""
    return SampleBatch(
        t,
        t + 1,
        (
            Sample("MainThread", (MAIN, WORK), 10, pid=100),
            Sample("MainThread", (POOL, HOT), 30, pid=201),
            Sample("MainThread", (POOL, HOT), 60, pid=202),
            Sample("Worker", (POOL,), 5, pid=202),
        ),
    )


def test_a_process_scope_keeps_only_its_samples_and_percentages() -> None:
    # GIVEN samples of three processes, each with a thread named MainThread
    tree = StackTree()
    tree.add(_two_processes())
    # WHEN the snapshot is scoped to process 201, then to all
    one = tree.snapshot(View(window_s=None, process=201))
    every = tree.snapshot(View(window_s=None))
    # THEN the scoped table, icicle and total count only 201's samples
    assert one.total_samples == 30 and one.root.total == 30
    assert row(one, "hot").total == 30 and [f.key.function for f in one.functions] == [
        "hot",
        "pool_worker",
    ]
    assert one.thread_stats == ((201, "MainThread", 30, None),)
    # ... while the process list still names every process, most samples first
    assert [(p.pid, p.samples) for p in one.processes] == [(202, 65), (201, 30), (100, 10)]
    assert every.total_samples == 105 and row(every, "hot").total == 90


def test_same_named_threads_of_different_processes_stay_apart() -> None:
    # GIVEN three processes each with a MainThread
    tree = StackTree()
    tree.add(_two_processes())
    # WHEN the thread list is read
    snap = tree.snapshot(View(window_s=None))
    # THEN there are three MainThreads, told apart by their pid in the label
    assert snap.threads == (
        ("MainThread (pid 202)", 60),
        ("MainThread (pid 201)", 30),
        ("MainThread (pid 100)", 10),
        ("Worker (pid 202)", 5),
    )
    # ... and a thread pattern within one process picks that process' thread only
    main_of_202 = tree.snapshot(View(window_s=None, thread="^MainThread$", process=202))
    assert main_of_202.total_samples == 60


def test_a_live_window_scoped_to_a_process_follows_new_seconds() -> None:
    # GIVEN a live 3 s window scoped to process 202 over ten seconds of samples
    tree = StackTree()
    for i in range(10):
        tree.add(_two_processes(T0 + i))
    live = tree.snapshot(View(window_s=3, process=202))
    # WHEN one more second arrives
    tree.add(_two_processes(T0 + 10))
    later = tree.snapshot(View(window_s=3, process=202))
    # THEN the window holds three seconds of 202's samples each time
    assert live.total_samples == 3 * 65 == later.total_samples
    assert later.t_end == T0 + 11


def test_pids_come_from_py_spy_process_roots_when_the_sampler_gives_none() -> None:
    # GIVEN the py-spy CLI's text: samples with no pid but `process PID:"cmd"` roots
    parent = Frame('process 100:"python job.py"')
    child = Frame('process 201:"python job.py --worker"')
    tree = StackTree()
    tree.add(
        batch(
            T0,
            ("MainThread", (parent, MAIN), 4),
            ("MainThread", (parent, child, POOL, HOT), 6),
        )
    )
    # WHEN the snapshot is read, and scoped to the child
    snap = tree.snapshot(View(window_s=None))
    scoped = tree.snapshot(View(window_s=None, process=201))
    # THEN each sample belongs to its innermost process root, labelled with its command
    assert [(p.pid, p.label, p.samples) for p in snap.processes] == [
        (201, "201 python job.py --worker", 6),
        (100, "100 python job.py", 4),
    ]
    assert scoped.total_samples == 6
    assert process_of(Sample("t", (parent, child, HOT), 1)) == (201, "python job.py --worker")


def test_one_process_keeps_plain_thread_names() -> None:
    # GIVEN samples of one process
    tree = StackTree()
    tree.add(batch(T0, ("MainThread", (MAIN,), 3), ("worker", (MAIN, WORK), 1)))
    # WHEN the thread list is read
    snap = tree.snapshot(View(window_s=None))
    # THEN names carry no pid and there is one (unknown) process
    assert snap.threads == (("MainThread", 3), ("worker", 1))
    assert [(p.pid, p.label) for p in snap.processes] == [(0, "unknown process")]


def test_the_thread_list_says_how_often_each_thread_was_active() -> None:
    # GIVEN complete batches (every thread, with active flags): the main thread ran in
    # 9 of its 10 samples, the waiter in none of 10
    trees = ModeTrees()
    samples = (
        Sample("MainThread", (MAIN, HOT), 9, pid=7, active=True),
        Sample("MainThread", (MAIN, WORK), 1, pid=7, active=False),
        Sample("waiter", (fr("wait"),), 10, pid=7, active=False),
    )
    trees.add(SampleBatch(T0, T0 + 1, samples, complete=True))
    # WHEN the wall-mode and cpu-mode thread lists are read
    wall = trees.snapshot(View(window_s=None, mode="wall"))
    cpu = trees.snapshot(View(window_s=None, mode="cpu"))
    # THEN each thread's active share is its running samples over all its samples
    assert [(t.name, t.samples, t.active) for t in wall.thread_stats] == [
        ("MainThread", 10, 0.9),
        ("waiter", 10, 0.0),
    ]
    assert [(t.name, t.samples, t.active) for t in cpu.thread_stats] == [("MainThread", 9, 0.9)]
