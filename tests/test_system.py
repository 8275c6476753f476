"""System readings (psutil) of a real target and of flametop itself, finding the Python
process behind a wrapper, and the metadata probes."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from support_targets import REPO, kill_tree, running_target, target_path

from samplers.target.facts import TargetFacts, git_commit_of, python_version_of, utc_iso
from samplers.target.system import (
    SystemMonitor,
    find_python_process,
    looks_like_python,
    process_alive,
    self_cpu_seconds,
)


def test_readings_of_a_busy_target_and_of_flametop() -> None:
    with running_target("cpu_75_25") as pid:
        monitor = SystemMonitor(pid)
        first = monitor.read()
        time.sleep(0.6)
        second = monitor.read()
    # GIVEN a CPU-bound target WHEN read twice THEN the second reading has rates
    assert first.cpu_percent is None and first.rss_bytes is not None
    assert second.cpu_percent is not None and second.cpu_percent > 15  # a loaded CI box shares it
    assert second.rss_bytes is not None and second.rss_bytes > 1_000_000
    assert second.threads is not None and second.threads >= 1
    assert second.ctx_switches_per_s is not None and second.ctx_switches_per_s >= 0
    assert second.io_bytes_per_s is not None and second.io_bytes_per_s >= 0
    assert second.self_cpu_percent is not None
    # the target is our child here, yet its CPU is not counted as flametop's
    assert second.self_cpu_percent < second.cpu_percent


def test_a_vanished_target_gives_empty_readings_not_errors() -> None:
    with running_target("sleeper") as pid:
        monitor = SystemMonitor(pid)
        monitor.read()
    assert not process_alive(pid)
    reading = monitor.read()
    assert reading.cpu_percent is None and reading.rss_bytes is None
    assert reading.self_cpu_percent is not None


def test_own_cpu_leaves_out_the_target_we_started() -> None:
    child = subprocess.Popen([sys.executable, str(target_path("cpu_75_25")), "5"])  # noqa: S603
    try:
        time.sleep(0.8)
        without = self_cpu_seconds(exclude_pid=child.pid)
        with_target = self_cpu_seconds()
        times = psutil.Process(child.pid).cpu_times()
    finally:
        child.kill()
        child.wait()
    # GIVEN a busy child WHEN it is the target THEN its CPU is not counted as flametop's
    assert times.user + times.system > 0.1
    assert with_target - without == pytest.approx(times.user + times.system, abs=0.05)


def test_python_found_behind_a_shell_wrapper() -> None:
    # `; exit` keeps bash from exec'ing python, as a pyenv shim or wrapper script does
    script = f'"{sys.executable}" "{target_path("sleeper")}" 5; exit 0'
    shell = subprocess.Popen(["bash", "-c", script], start_new_session=True)  # noqa: S603, S607
    try:
        found = find_python_process(shell.pid, timeout=3.0)
        assert found != shell.pid
        assert looks_like_python(found)
        assert psutil.Process(found).ppid() == shell.pid
        assert not looks_like_python(shell.pid)
    finally:
        kill_tree(shell.pid)
        shell.wait()


def test_metadata_names_python_version_git_commit_and_utc_time() -> None:
    with running_target("sleeper") as pid:
        meta = TargetFacts(pid).metadata(
            sampler="py-spy 0.4.3", rate=100, mode="wall", start_time=0.0, duration_s=2.5
        )
        assert python_version_of(pid) == platform.python_version()
    assert meta.python_version == platform.python_version()
    assert meta.pid == pid
    assert any("sleeper.py" in part for part in meta.cmdline)
    assert meta.start_time == "1970-01-01T00:00:00Z"
    assert meta.host and meta.flametop_version and meta.sampler == "py-spy 0.4.3"
    if (REPO / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}", git_commit_of(REPO))


def test_no_git_commit_outside_a_repository(tmp_path: Path) -> None:
    assert git_commit_of(tmp_path) == ""
    assert git_commit_of(None) == ""
    assert utc_iso(1_700_000_000.4) == "2023-11-14T22:13:20Z"
