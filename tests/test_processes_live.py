"""Processes on a real multiprocessing.Pool job: system readings of the whole process
tree, and the in-process sampler with --subprocesses giving samples of several pids that
the tree scopes to one."""

from __future__ import annotations

import time

from support_targets import running_target

from samplers.target.system import SystemMonitor, descendants


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
