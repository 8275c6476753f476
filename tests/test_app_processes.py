"""The live App with several processes (a Pool job sampled with --subprocesses): the `P`
chooser scopes table, icicle, rails and percentages to one process; the thread chooser
keeps same-named threads of different processes apart and says how often each ran; the
header says when idle parents hide busy children."""

from __future__ import annotations

from pathlib import Path

from support_app import (
    CRUNCH,
    HOT,
    MAIN,
    SERVE,
    T0,
    WORKER_RUN,
    FixedClock,
    ScriptedSampler,
    sync,
    table_functions,
    wait_for,
)

from samplers.model import (
    Frame,
    Metadata,
    ProcessReading,
    Sample,
    SampleBatch,
    SamplingOptions,
    SystemReading,
)
from samplers.tree.modes import ModeTrees
from tui.app import FlametopApp
from tui.keys import help_rows
from tui.render.header_text import CHILDREN_NOTE
from tui.widgets.header import FlametopHeader
from tui.widgets.process_chooser import ProcessChooser
from tui.widgets.rails import Rails, build_rails
from tui.widgets.thread_chooser import ThreadChooser, thread_rows
from tui.widgets.top_table import TopTable

SIZE = (120, 40)
PARENT = Frame('process 100:"python job.py"')
CHILD = Frame('process 201:"python job.py --worker"')


def _second(i: int) -> SampleBatch:
    """The parent (pid 100) waits in serve 20 times, ran 10; its worker (pid 201) runs
    crunch 70 times. Both threads are called MainThread."""
    return SampleBatch(
        T0 + i,
        T0 + i + 1,
        (
            Sample("MainThread", (PARENT, MAIN, SERVE), 20, pid=100, active=False),
            Sample("MainThread", (PARENT, MAIN, HOT), 10, pid=100, active=True),
            Sample("MainThread", (PARENT, CHILD, WORKER_RUN, CRUNCH), 70, pid=201),
        ),
        mode="wall",
        complete=True,
    )


def _reading(i: int, parent_cpu: float, child_cpu: float) -> SystemReading:
    return SystemReading(
        t=T0 + i + 0.5,
        cpu_percent=parent_cpu,
        rss_bytes=100_000_000,
        threads=3,
        processes=(
            ProcessReading(100, parent_cpu, 100_000_000, 3),
            ProcessReading(201, child_cpu, 50_000_000, 1),
        ),
    )


def _app(tmp_path: Path, batches: list[SampleBatch], readings: list[SystemReading]) -> FlametopApp:
    tree = ModeTrees(mode="wall")
    for r in readings:
        tree.add_reading(r)
    return FlametopApp(
        ScriptedSampler(batches),
        target="pid 100 python job.py",
        metadata=Metadata(pid=100, rate=100.0, mode="wall"),
        save_dir=tmp_path,
        tree=tree,
        options=SamplingOptions(mode="wall"),
        clock=FixedClock(T0 + 5),
        snapshot_interval=0.05,
    )


@sync
async def test_choosing_a_process_scopes_table_rails_and_percentages(tmp_path: Path) -> None:
    # GIVEN five seconds of a parent and its worker, both sampled, with rail readings
    readings = [_reading(i, 2.0, 95.0) for i in range(5)]
    app = _app(tmp_path, [_second(i) for i in range(5)], readings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        # THEN at first everything counts: both processes' functions, rails summed
        assert {"crunch", "hot_loop"} <= set(table_functions(app))
        assert build_rails(app.query_one(Rails).info)[0].value_text == "97%"
        # WHEN the user opens the process chooser
        await pilot.press("P")
        assert isinstance(app.screen, ProcessChooser)
        rows = [str(o.prompt) for o in app.screen.query_one("#process-list").options]  # type: ignore[attr-defined]
        # THEN it offers all processes, then each by share, pid and command line
        assert rows == [
            "all processes",
            " 70.0%  201 python job.py --worker",
            " 30.0%  100 python job.py",
        ]
        # WHEN the parent (second row) is chosen
        await pilot.press("down", "down", "enter")
        await wait_for(lambda: app.shown is not None and app.shown.view.process == 100)
        # THEN only the parent's samples count, as 100% of what is shown
        assert app.shown.total_samples == 150
        assert "crunch" not in table_functions(app) and "hot_loop" in table_functions(app)
        assert app.shown.root.total == 150
        # ... the rails, header and title name it
        assert build_rails(app.query_one(Rails).info)[0].value_text == "2%"
        assert "100 python job.py" in app.query_one(FlametopHeader).info.process
        assert "process 100" in str(app.query_one(TopTable).border_title)
        # WHEN "all processes" is chosen again, THEN everything is back
        await pilot.press("P", "home", "enter")
        await wait_for(lambda: app.shown is not None and app.shown.view.process is None)
        assert app.shown.total_samples == 500
        assert app.query_one(FlametopHeader).info.process == ""


@sync
async def test_the_thread_chooser_keeps_each_process_main_thread_apart(tmp_path: Path) -> None:
    # GIVEN two processes whose threads are both named MainThread
    app = _app(tmp_path, [_second(i) for i in range(5)], [])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        # WHEN the thread chooser opens
        await pilot.press("t")
        assert isinstance(app.screen, ThreadChooser)
        rows = [str(o.prompt) for o in app.screen.query_one("#thread-list").options]  # type: ignore[attr-defined]
        # THEN each MainThread is listed with its pid, share and active share
        assert rows == [
            "all threads",
            " 70.0%  active 100%  MainThread (pid 201)",
            " 30.0%  active 33%  MainThread (pid 100)",
        ]
        # WHEN the parent's MainThread is chosen
        await pilot.press("down", "down", "enter")
        await wait_for(lambda: app.shown is not None and app.shown.view.thread is not None)
        # THEN the view is that process' thread only
        assert app.shown.view.process == 100 and app.shown.total_samples == 150
        assert "crunch" not in table_functions(app)


@sync
async def test_one_process_offers_no_process_chooser(tmp_path: Path) -> None:
    # GIVEN samples of one process only
    batch = SampleBatch(T0, T0 + 1, (Sample("MainThread", (MAIN, HOT), 50, pid=100),), "wall")
    app = _app(tmp_path, [batch], [])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 50)
        # WHEN P is pressed
        await pilot.press("P")
        # THEN no chooser opens, and a notice says why
        assert not isinstance(app.screen, ProcessChooser)
        assert any("--subprocesses" in message for _, message in app.notices)


@sync
async def test_idle_parent_with_busy_children_suggests_subprocesses(tmp_path: Path) -> None:
    # GIVEN only the parent is sampled while the readings show its child burning CPU
    batches = [
        SampleBatch(
            T0 + i, T0 + i + 1, (Sample("MainThread", (MAIN, SERVE), 100, pid=100),), "wall"
        )
        for i in range(5)
    ]
    app = _app(tmp_path, batches, [_reading(i, 1.0, 90.0) for i in range(5)])
    async with app.run_test(size=SIZE):
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        # THEN the header says where the time goes and how to see it
        await wait_for(lambda: app.query_one(FlametopHeader).info.note == CHILDREN_NOTE)


def test_process_chooser_key_is_listed_under_help() -> None:
    # GIVEN the help screen's rows WHEN read THEN P is there, described
    assert any(key == "P" and "process" in text for key, text in help_rows())


def test_thread_rows_without_active_flags_or_several_processes() -> None:
    # GIVEN a thread list from the py-spy CLI (no active flags), one process
    from samplers.tree.snapshot import ThreadStat

    rows = thread_rows((ThreadStat(0, "MainThread", 3), ThreadStat(0, "w", 1)), several=False)
    # THEN rows carry the share and the plain name only
    assert rows == [" 75.0%  MainThread", " 25.0%  w"]


def test_a_snapshot_saved_while_scoped_keeps_only_that_process() -> None:
    # GIVEN a view scoped to the worker (pid 201)
    from samplers.model import Profile
    from samplers.tree.snapshot import View
    from tui.saving import window_profile

    batches = tuple(_second(i) for i in range(3))
    trees = ModeTrees(mode="wall")
    for b in batches:
        trees.add(b)
    snap = trees.snapshot(View(window_s=None, mode="wall", process=201))
    # WHEN `s` cuts the window's profile out of the capture
    saved = window_profile(Profile(Metadata(pid=100), batches), snap)
    # THEN it holds the worker's samples only, and says it was scoped
    assert {s.pid for b in saved.batches for s in b.samples} == {201}
    assert saved.total == snap.total_samples == 210
    assert ("process", "201") in saved.metadata.extra
