"""The in-process sampler (native/ through StreamingSampler) against real targets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from samplers.backends import registry, streaming
from samplers.backends.streaming import StreamingSampler
from samplers.errors import NotPythonError, TargetNotFoundError
from samplers.model import Frame, Sample, SampleBatch, SamplingOptions
from samplers.tree.modes import ModeTrees
from samplers.tree.snapshot import View
from tests.support_consumers import go_pprof
from tests.support_targets import REPO, run_flametop, running_target
from tui.render.header_text import ASYNCIO_NOTE, asyncio_note

pytestmark = [pytest.mark.pyspy]


def _collect(sampler: StreamingSampler, seconds: float) -> list[SampleBatch]:
    batches: list[SampleBatch] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not sampler.finished:
        batch = sampler.poll(0.3)
        if batch is not None:
            batches.append(batch)
    return batches


def _leaf_shares(batches: list[SampleBatch], mode: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for batch in batches:
        seen = batch.view(mode)  # type: ignore[arg-type]
        assert seen is not None
        for s in seen.samples:
            counts[s.stack[-1].function] += s.count
    return counts


def _sampling_threads() -> list[str]:
    names = []
    for task in Path("/proc/self/task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:
            pass
    return [n for n in names if n.startswith("flametop-sampl")]


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False  # gone between listing and asking


def test_the_75_25_split_within_2_points_and_no_child_process() -> None:
    # GIVEN a target spending 75 % of its CPU in one function
    with running_target("cpu_75_25") as pid:
        # 250 Hz for 10 s: ~2500 samples, so 2 points are 2.3 standard errors. Not a
        # higher rate: on a loaded machine reads then fall behind, back-to-back samples
        # land in the same function, and far fewer of them are independent.
        sampler = StreamingSampler(pid, SamplingOptions(rate=250))
        sampler.start()
        try:
            batches = _collect(sampler, 1.0)
            # THEN nothing is sampled through a child process (the target is ours; an
            # earlier test's exited, not yet reaped child is a zombie and samples nothing)
            others = [
                c for c in psutil.Process().children(recursive=True) if c.pid != pid and _running(c)
            ]
            assert others == []
            batches += _collect(sampler, 9.0)
        finally:
            sampler.stop()
    # AND batches cross at least 4 times a second, complete (every mode in them)
    assert len(batches) >= 4 * 3
    assert all(b.complete for b in batches)
    shares = _leaf_shares(batches, "cpu")
    total = sum(shares.values())
    assert abs(100 * shares["hot_three_quarters"] / total - 75) <= 2, shares
    assert abs(100 * shares["warm_one_quarter"] / total - 25) <= 2, shares
    # AND the sampling thread is gone once stopped
    assert _sampling_threads() == []


def test_idle_threads_do_not_swamp_cpu_mode_but_are_all_in_wall_mode() -> None:
    # GIVEN 50 threads waiting and one spinning
    with running_target("idle_threads") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        try:
            batches = _collect(sampler, 4.0)
        finally:
            sampler.stop()
    cpu = _leaf_shares(batches, "cpu")
    # THEN the busy function is at least 70 % of cpu-mode samples (py-spy's own blocking
    # read gave it 3 % here: the idle threads read as running)
    assert cpu["busy"] / sum(cpu.values()) >= 0.70, cpu
    # AND wall mode sees every thread at each instant, named
    wall = [s for b in batches for s in b.samples]
    threads = {s.thread for s in wall}
    assert {f"idle-{i}" for i in range(50)} <= threads
    assert "MainThread" in threads
    assert all(s.pid == pid for s in wall)


def test_a_mode_switch_shows_the_previous_seconds_in_the_new_mode() -> None:
    # GIVEN 3 s of the idle-threads target in a live tree shown in cpu mode
    with running_target("idle_threads") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        try:
            batches = _collect(sampler, 3.0)
        finally:
            sampler.stop()
    trees = ModeTrees(mode="cpu")
    for batch in batches:
        trees.add(batch)
    cpu = trees.snapshot(View(window_s=5.0, mode="cpu"))
    # WHEN the view switches to wall with no new batch
    wall = trees.snapshot(View(window_s=5.0, mode="wall"))
    # THEN the same 5 s window holds every thread's waiting, ~51x as many samples
    assert wall.total_samples > 20 * cpu.total_samples
    waits = [f for f in wall.functions if f.key.function == "Condition.wait"]
    assert waits and waits[0].own > 0.8 * wall.total_samples
    # AND gil mode has at most one holder per instant: wall mode reads every thread at
    # each instant, so any thread's wall count is the number of instants. (Not tied to
    # cpu mode: a holder the machine preempted holds the GIL without running.)
    gil = trees.snapshot(View(window_s=5.0, mode="gil"))
    instants = max(t.samples for t in wall.thread_stats)
    assert 0 < gil.total_samples <= instants


def test_gil_contention_one_holder_per_instant() -> None:
    # GIVEN four threads fighting for the GIL
    with running_target("gil_fight") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        try:
            batches = _collect(sampler, 3.0)
            health = sampler.health
        finally:
            sampler.stop()
    ticks = health.samples
    gil = sum(s.count for b in batches for s in b.samples if s.gil)
    fighters = {s.thread for b in batches for s in b.samples if s.gil}
    # THEN the GIL is held at nearly every instant, by one thread at a time, and each
    # fighter holds it for part of the time (py-spy --gil shows the same four)
    assert 0.5 * ticks <= gil <= ticks  # a switch between holders can fall on an instant
    assert {f"fighter-{i}" for i in range(4)} <= fighters


def test_target_death_ends_sampling_with_target_exited() -> None:
    with running_target("cpu_75_25") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        _collect(sampler, 0.5)
        # WHEN the target is killed mid-run
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while not sampler.finished and time.monotonic() < deadline:
            sampler.poll(0.1)
        sampler.stop()
    # THEN sampling ends, saying the target exited
    assert sampler.finished
    assert sampler.health.state == "target-exited"


def test_a_panic_on_the_sampling_thread_is_reported_and_sampling_goes_on() -> None:
    with running_target("cpu_75_25") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        try:
            _collect(sampler, 0.3)
            assert sampler._native is not None
            sampler._native.inject_panic()
            _collect(sampler, 1.0)
            after = _collect(sampler, 0.5)
        finally:
            sampler.stop()
    health = sampler.health
    assert health.restarts == 1
    assert any("panicked" in e for e in health.errors), health.errors
    assert sum(b.count for b in after) > 0 and not sampler.finished


def test_not_python_and_missing_pid_are_one_line_errors() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])  # noqa: S603, S607
    try:
        with pytest.raises(NotPythonError):
            StreamingSampler(sleeper.pid).start()
    finally:
        sleeper.kill()
        sleeper.wait()
    with pytest.raises(TargetNotFoundError):
        StreamingSampler(sleeper.pid).start()


def test_a_mode_change_needs_no_restart_but_a_rate_change_reattaches() -> None:
    with running_target("cpu_75_25") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        try:
            _collect(sampler, 0.3)
            sampler.configure(replace(sampler.options, mode="wall"))
            _collect(sampler, 0.5)
            assert sampler.health.restarts == 0
            sampler.configure(replace(sampler.options, rate=50))
            batches = _collect(sampler, 1.0)
        finally:
            sampler.stop()
    assert sampler.health.restarts == 1
    assert batches[-1].mode == "wall" and batches[-1].rate == 50


def test_without_the_extension_auto_means_the_pyspy_cli() -> None:
    # GIVEN an interpreter where flametop_native cannot be imported
    code = (
        "import sys; sys.modules['flametop_native'] = None\n"
        "from samplers.backends import registry\n"
        "print(registry.resolve('auto'))\n"
        "try:\n    registry.resolve('in-process')\nexcept Exception as e:\n    print(e)\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # THEN auto picks the py-spy CLI and asking for in-process says how to build it
    assert out[0] == "py-spy"
    assert "not built" in out[1] and "--sampler py-spy" in out[1]


def test_here_auto_is_in_process() -> None:
    # make test builds native/: the default backend here is the in-process one
    assert streaming.available()
    assert registry.resolve("auto") == "in-process"
    assert registry.resolve("auto", native=True) == (
        "in-process" if streaming.has_unwind() else "py-spy"
    )


def test_a_quiet_target_empties_the_window_in_every_mode() -> None:
    # GIVEN 2 s of a busy GIL holder followed by 7 s of batches with no GIL holder (the
    # stream goes on: every instant is read, none finds a holder)
    frame = (Frame("busy", "app.py", 1),)
    busy = [
        SampleBatch(t, t + 0.2, (Sample("MainThread", frame, 20, 1, True, True),), complete=True)
        for t in (1000.0 + 0.2 * i for i in range(10))
    ]
    quiet = [
        SampleBatch(t, t + 0.2, (Sample("MainThread", frame, 20, 1, False, False),), complete=True)
        for t in (1002.0 + 0.2 * i for i in range(35))
    ]
    trees = ModeTrees()
    for batch in busy + quiet:
        trees.add(batch)
    # THEN the 5 s window of gil and cpu mode is empty: it follows the clock, not the
    # newest sample; wall mode still shows the thread waiting
    for mode in ("gil", "cpu"):
        assert trees.snapshot(View(window_s=5.0, mode=mode)).total_samples == 0  # type: ignore[arg-type]
    assert trees.snapshot(View(window_s=5.0, mode="wall")).total_samples > 0
    assert trees.snapshot(View(window_s=None, mode="gil")).total_samples == 200


def test_the_use_pid_hint_never_names_flametop_itself() -> None:
    # GIVEN a shell whose only Python child is flametop (`flametop top --pid $$`)
    code = (
        "import os, sys\n"
        "from samplers.backends.streaming import StreamingSampler\n"
        "try:\n    StreamingSampler(os.getppid()).start()\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run(  # noqa: S603
        ["bash", "-c", f'{sys.executable} -c "$0"; true', code],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # THEN it is not Python, and no "use --pid <flametop>" is suggested
    assert "use --pid" not in out, out
    assert out.strip(), "an error was expected"


def test_wall_mode_on_an_asyncio_target_says_why_tasks_are_missing() -> None:
    # GIVEN an asyncio server whose 20 requests wait in asyncio.sleep, sampled for real
    with running_target("asyncio_server") as pid:
        sampler = StreamingSampler(pid, SamplingOptions(rate=100))
        sampler.start()
        try:
            batches = _collect(sampler, 1.5)
        finally:
            sampler.stop()
    trees = ModeTrees()
    for batch in batches:
        trees.add(batch)
    wall = trees.snapshot(View(window_s=None, mode="wall"))
    cpu = trees.snapshot(View(window_s=None, mode="cpu"))
    # THEN the header explains in wall mode, and only there
    assert asyncio_note(wall, "wall") == ASYNCIO_NOTE
    assert asyncio_note(cpu, "cpu") is None


def test_pprof_carries_a_pid_label_per_process(tmp_path: Path) -> None:
    # GIVEN a parent whose two Python children burn CPU, recorded with --subprocesses
    out = tmp_path / "sp.pb.gz"
    with running_target("spawner") as pid:
        parent = psutil.Process(pid)
        deadline = time.monotonic() + 5
        while len(parent.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = {c.pid for c in parent.children()}
        result = run_flametop(
            "record", "--pid", str(pid), "--subprocesses", "-d", "2", "-o", str(out)
        )
    assert result.returncode == 0, result.stderr
    # THEN `go tool pprof -tags` shows each child under its own pid label
    tags = go_pprof(["-tags", str(out)], tmp_path).stdout
    assert "pid:" in tags, tags
    assert all(str(c) in tags for c in children), (children, tags)
