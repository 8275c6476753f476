"""Processes on a real multiprocessing.Pool job: system readings of the whole process
tree; the in-process sampler with --subprocesses giving samples of several pids that the
process chooser scopes to one; without it, the header saying the children are busy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support_app import sync, table_functions, wait_for
from support_targets import running_target

from samplers.backends.streaming import StreamingSampler
from samplers.model import Metadata, SamplingOptions
from samplers.target.system import SystemMonitor, descendants
from samplers.tree.modes import ModeTrees
from samplers.tree.snapshot import View
from tui.app import FlametopApp
from tui.render.header_text import CHILDREN_NOTE
from tui.widgets.header import FlametopHeader
from tui.widgets.process_chooser import ProcessChooser
from tui.widgets.rails import Rails, build_rails


def test_readings_cover_every_process_of_a_pool_job() -> None:
    # GIVEN a Pool job: an idle parent waiting on four busy workers
    with running_target("pool_job", settle=1.0) as pid:
        monitor = SystemMonitor(pid)
        monitor.read()
        time.sleep(1.0)
        # WHEN it is read twice
        reading = monitor.read()
        workers = descendants(pid)
    # THEN the reading lists the parent first, then each worker with its own figures
    by_pid = {p.pid: p for p in reading.processes}
    assert reading.processes[0].pid == pid
    assert len(workers) >= 4 and set(workers) <= set(by_pid)
    assert all(by_pid[w].rss_bytes and by_pid[w].threads for w in workers)
    # ... and the workers burn CPU while the parent mostly waits
    children_cpu = sum(by_pid[w].cpu_percent or 0.0 for w in workers)
    assert children_cpu > 20  # a loaded CI box shares its cores
    assert reading.cpu_percent is not None and children_cpu > reading.cpu_percent


def _app(sampler: StreamingSampler, pid: int, tmp_path: Path) -> FlametopApp:
    return FlametopApp(
        sampler,
        target=f"pid {pid} python pool_job.py",
        metadata=Metadata(pid=pid, rate=100.0, mode="wall"),
        save_dir=tmp_path,
        monitor=SystemMonitor(pid),
        snapshot_interval=0.1,
    )


@pytest.mark.slow
@sync
async def test_subprocesses_of_a_pool_job_can_be_scoped_to_one_worker(tmp_path: Path) -> None:
    # GIVEN `top --subprocesses` on a real Pool job, in-process sampler, wall mode
    with running_target("pool_job", settle=1.0) as pid:
        sampler = StreamingSampler(pid, SamplingOptions(mode="wall", subprocesses=True))
        app = _app(sampler, pid, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            # WHEN samples of the parent and its workers have arrived
            await wait_for(
                lambda: app.shown is not None and len(app.shown.processes) >= 3, timeout=20
            )
            processes = app.shown.processes
            # THEN each process is listed with its command line
            assert all("pool_job.py" in p.label for p in processes), processes
            worker = next(p for p in processes if p.pid != pid)
            # WHEN the user picks that worker in the process chooser
            await pilot.press("P")
            assert isinstance(app.screen, ProcessChooser)
            rows = [p.pid for p in app.screen._processes]  # noqa: SLF001 - the listed order
            await pilot.press(*["down"] * (rows.index(worker.pid) + 1), "enter")
            await wait_for(lambda: app.shown is not None and app.shown.view.process == worker.pid)
            await wait_for(lambda: app.shown is not None and app.shown.total_samples > 0)
            # THEN everything shown is that worker's: its thread list, its square() calls
            snap = app.shown
            assert {t.pid for t in snap.thread_stats} == {worker.pid}
            assert snap.root.total == snap.total_samples
            assert "square" in table_functions(app)
            # ... its rails (CPU of that worker, read from the process tree)
            rails = app.query_one(Rails)
            assert rails.info.process == worker.pid
            await wait_for(lambda: build_rails(rails.info)[0].value_text != "–", timeout=10)
            header = app.query_one(FlametopHeader).text.plain
            assert f"process {worker.pid} " in header, header


@pytest.mark.slow
@sync
async def test_an_idle_pool_parent_says_its_children_are_busy(tmp_path: Path) -> None:
    # GIVEN `top` WITHOUT --subprocesses on a real Pool job: only the idle parent sampled
    with running_target("pool_job", settle=1.0) as pid:
        sampler = StreamingSampler(pid, SamplingOptions(mode="wall"))
        app = _app(sampler, pid, tmp_path)
        async with app.run_test(size=(120, 40)):
            # WHEN a few readings of the target's process tree have come in
            await wait_for(
                lambda: app.query_one(FlametopHeader).info.note == CHILDREN_NOTE, timeout=20
            )
            # THEN the header says so, and only the parent was sampled
            assert app.shown is not None and len(app.shown.processes) == 1


@pytest.mark.slow
@pytest.mark.pyspy
def test_the_py_spy_cli_backend_tells_processes_apart_by_their_roots() -> None:
    # GIVEN the py-spy CLI backend with --subprocesses on a real Pool job (its text has
    # no pid per sample, only `process PID:"cmdline"` roots)
    from samplers.backends.pyspy_cli import PySpySampler

    trees = ModeTrees()
    with running_target("pool_job", settle=1.0) as pid:
        sampler = PySpySampler(pid, SamplingOptions(subprocesses=True))
        sampler.start()
        try:
            end = time.monotonic() + 4.0
            while time.monotonic() < end:
                batch = sampler.poll(0.2)
                if batch is not None:
                    trees.add(batch)
        finally:
            sampler.stop()
    # WHEN the tree is read, and scoped to a worker
    snap = trees.snapshot(View(window_s=None))
    workers = [p for p in snap.processes if p.pid != pid]
    scoped = trees.snapshot(View(window_s=None, process=workers[0].pid))
    # THEN the parent and its workers are separate processes, named by command line
    assert len(workers) >= 2, snap.processes
    assert all("pool_job.py" in p.label for p in snap.processes)
    assert 0 < scoped.total_samples == workers[0].samples < snap.total_samples
    assert {t.pid for t in scoped.thread_stats} == {workers[0].pid}
