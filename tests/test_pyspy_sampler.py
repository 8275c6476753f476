"""PySpySampler: parsing py-spy's raw output, classifying its errors, and live chunked
sampling of real targets with the real py-spy."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support_targets import running_target

from samplers.backends.pyspy_cli import PySpySampler
from samplers.backends.pyspy_run import estimate_ticks
from samplers.backends.pyspy_tool import PYSPY_ENV, classify_failure, find_pyspy
from samplers.errors import (
    NotPythonError,
    PermissionDeniedError,
    SamplerFailedError,
    SamplerMissingError,
    TargetNotFoundError,
)
from samplers.formats.pyspy_raw import parse_raw, parse_raw_line
from samplers.model import Frame, SampleBatch, SamplingOptions

# -- parsing -----------------------------------------------------------------------


def test_raw_line_frames_are_root_first_with_file_and_line() -> None:
    sample = parse_raw_line("<module> (app.py:12);main (app.py:10);hot (lib/x.py:4) 76", False)
    assert sample is not None
    assert sample.count == 76
    assert sample.stack == (
        Frame("<module>", "app.py", 12),
        Frame("main", "app.py", 10),
        Frame("hot", "lib/x.py", 4),
    )
    assert sample.thread == ""


def test_thread_root_names_the_thread_and_is_kept_only_when_asked() -> None:
    line = "thread (2984): Worker-1;run (w.py:3);work (w.py:9) 5"
    without = parse_raw_line(line, keep_thread_frame=False)
    with_root = parse_raw_line(line, keep_thread_frame=True)
    assert without is not None and with_root is not None
    assert without.thread == with_root.thread == "Worker-1"
    assert [f.function for f in without.stack] == ["run", "work"]
    assert with_root.stack[0] == Frame("thread (Worker-1)")
    hex_id = parse_raw_line("thread (0x7f3a01): ;f (a.py:1) 2", False)
    assert hex_id is not None and hex_id.thread == "0x7f3a01"


def test_semicolons_inside_names_do_not_split_frames() -> None:
    sample = parse_raw_line("outer (a;b.py:1);inner;x (c.py:2) 3", False)
    assert sample is not None
    assert [f.function for f in sample.stack] == ["outer", "inner;x"]
    assert sample.stack[0].file == "a;b.py"


def test_process_root_with_semicolons_quotes_and_newlines_in_its_command_line() -> None:
    text = (
        'process 11:"python -c import a; print(\\"x\\");\nloop()";thread (12): Main;'
        "work (<string>:3) 7\n"
        'process 11:"python app.py";thread (13): Other;f (app.py:1) 2\n'
    )
    samples = parse_raw(text, keep_thread_frame=False)
    assert [s.count for s in samples] == [7, 2]
    first = samples[0]
    assert first.stack[0].function.startswith('process 11:"python -c import a;')
    assert "\n" not in first.stack[0].function
    assert first.stack[-1] == Frame("work", "<string>", 3)
    assert first.thread == "Main"


def test_malformed_lines_are_skipped_not_fatal() -> None:
    text = "no count here\n\n f (a.py:1) x\ng (a.py:2) 4\n"
    assert [s.count for s in parse_raw(text, False)] == [4]


def test_ticks_are_the_busiest_threads_count_except_in_gil_mode() -> None:
    text = "thread (1): A;f (a.py:1) 60\nthread (1): A;g (a.py:2) 30\nthread (2): B;f (a.py:1) 50\n"
    samples = parse_raw(text, False)
    assert estimate_ticks(samples, "wall") == 90
    assert estimate_ticks(samples, "gil") == 140


@pytest.mark.parametrize(
    ("stderr", "kind", "words"),
    [
        (
            "Permission Denied: Try running again with elevated permissions",
            PermissionDeniedError,
            ["sudo", "ptrace_scope", "SYS_PTRACE", "-- CMD"],
        ),
        ("Error: Failed to find python version from target process", NotPythonError, ["Python"]),
        ("Error: Operation not permitted (os error 1)", PermissionDeniedError, ["sudo"]),
        ("Error: something new\n\nStack backtrace:\n 0: x", SamplerFailedError, ["something new"]),
    ],
)
def test_pyspy_errors_become_one_line_naming_the_fix(
    stderr: str, kind: type[Exception], words: list[str]
) -> None:
    error = classify_failure(os.getpid(), stderr)
    assert isinstance(error, kind)
    assert "\n" not in str(error)
    for word in words:
        assert word in str(error)


def test_missing_pyspy_override_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PYSPY_ENV, "/nonexistent/py-spy")
    with pytest.raises(SamplerMissingError, match="FLAMETOP_PYSPY"):
        find_pyspy()


def test_pyspy_missing_everywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(PYSPY_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    with pytest.raises(SamplerMissingError, match="pip install py-spy"):
        find_pyspy()


# -- live sampling -----------------------------------------------------------------


def _collect(sampler: PySpySampler, seconds: float) -> list[SampleBatch]:
    batches: list[SampleBatch] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not sampler.finished:
        batch = sampler.poll(0.2)
        if batch is not None:
            batches.append(batch)
    return batches


@pytest.mark.pyspy
def test_batches_arrive_every_second_back_to_back_with_coverage_in_health() -> None:
    with running_target("cpu_75_25") as pid:
        sampler = PySpySampler(pid)
        sampler.start()
        try:
            arrivals: list[float] = []
            batches: list[SampleBatch] = []
            end = time.monotonic() + 4.2
            while time.monotonic() < end:
                batch = sampler.poll(0.2)
                if batch is not None:
                    batches.append(batch)
                    arrivals.append(time.monotonic())
        finally:
            sampler.stop()
        while (batch := sampler.poll(0.0)) is not None:
            batches.append(batch)
    health = sampler.health
    # GIVEN a busy target WHEN sampled for ~4 s THEN a batch arrives about every second
    assert len(batches) >= 4
    # AND consecutive batches meet: the hand-over leaves no hole in the time line,
    # because every new run was seen sampling before the previous one was stopped
    for prev, nxt in zip(batches, batches[1:], strict=False):
        assert nxt.t_start == pytest.approx(prev.t_end, abs=0.002)
    assert len(sampler.latencies) >= len(batches) - 1
    assert all(latency > 0 for latency in sampler.latencies)  # how low: make bench
    assert all(b.mode == "cpu" for b in batches)
    # every chunk sampled something; only the last one, cut by stop() possibly a few ms
    # after a hand-over, may be empty
    assert all(b.count > 0 for b in batches[:-1]), [b.count for b in batches]
    # AND health accounts for it (the 97% goal is measured by `make bench`)
    assert health.state == "stopped"
    assert health.chunks == len(batches)
    assert health.samples > 0 and health.expected > 0
    # (the run is shorter than the health window: recent and whole-run figures agree)
    assert health.coverage == pytest.approx(health.samples / health.expected)
    assert health.own_cpu_seconds > 0
    assert health.gap_seconds_total >= 0


@pytest.mark.pyspy
def test_idle_threads_do_not_swamp_cpu_mode_on_the_cli_backend() -> None:
    # GIVEN 50 threads waiting and one spinning, sampled by py-spy's CLI in chunks
    with running_target("idle_threads") as pid:
        sampler = PySpySampler(pid, SamplingOptions(mode="cpu"))
        sampler.start()
        try:
            batches = _collect(sampler, 3.3)
        finally:
            sampler.stop()
    leaves: dict[str, int] = {}
    for s in (s for b in batches for s in b.samples if s.stack):
        leaves[s.stack[-1].function] = leaves.get(s.stack[-1].function, 0) + s.count
    # THEN the busy function is most of cpu mode (blocking chunks gave it 6 %: the
    # threads py-spy stopped read as running)
    assert leaves.get("busy", 0) >= 0.7 * sum(leaves.values()), leaves


@pytest.mark.pyspy
def test_idle_time_in_cpu_mode_is_not_called_lost() -> None:
    # GIVEN a target that sleeps, sampled in cpu mode (py-spy leaves idle instants out,
    # from its output and from its own count alike)
    with running_target("sleeper") as pid:
        sampler = PySpySampler(pid, SamplingOptions(mode="cpu"))
        sampler.start()
        try:
            _collect(sampler, 2.3)
            cpu = sampler.health
            sampler.configure(replace(sampler.options, mode="wall"))
            _collect(sampler, 2.3)
            wall = sampler.health
        finally:
            sampler.stop()
    # THEN few instants are seen, and health says idle ones are unseen rather than lost
    assert cpu.coverage < 0.5 and cpu.idle_unseen
    # AND in wall mode every instant is written: coverage is a loss figure again
    assert not wall.idle_unseen


@pytest.mark.pyspy
def test_mode_change_applies_from_the_next_chunk() -> None:
    with running_target("sleeper") as pid:
        sampler = PySpySampler(pid, SamplingOptions(mode="cpu"))
        sampler.start()
        try:
            first = _collect(sampler, 1.3)
            sampler.configure(replace(sampler.options, mode="wall"))
            later = _collect(sampler, 2.3)
        finally:
            sampler.stop()
    assert first and first[0].mode == "cpu"
    wall = [b for b in later if b.mode == "wall"]
    assert wall, "a chunk in wall mode arrived"
    # GIVEN a sleeping target THEN cpu mode sees almost nothing and wall mode the sleep
    assert first[0].count < 20
    assert max(b.count for b in wall) > 60


@pytest.mark.pyspy
def test_target_exit_finishes_the_sampler() -> None:
    with running_target("cpu_75_25", "2.5") as pid:
        sampler = PySpySampler(pid)
        sampler.start()
        batches = _collect(sampler, 6.0)
        assert sampler.finished
        sampler.stop()
    assert sampler.health.state == "target-exited"
    assert sum(b.count for b in batches) > 50


def _fake_pyspy(tmp_path: Path) -> Path:
    """A py-spy that works once, then hangs ignoring SIGINT, then crashes every time."""
    real = find_pyspy()
    script = tmp_path / "py-spy"
    counter = tmp_path / "runs"
    script.write_text(
        "#!/bin/bash\n"
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{counter}"\n'
        f'if [ "$1" != record ] || [ $n -le 1 ]; then exec "{real}" "$@"; fi\n'
        "if [ $n -eq 2 ]; then trap '' INT; exec sleep 30; fi\n"
        'echo "Error: simulated crash" >&2; exit 1\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.pyspy
def test_hang_and_crashes_are_noticed_retried_then_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PYSPY_ENV, str(_fake_pyspy(tmp_path)))
    with running_target("cpu_75_25") as pid:
        sampler = PySpySampler(pid, hang_seconds=1.0, backoff=(0.05, 0.05, 0.05))
        sampler.start()
        batches = _collect(sampler, 10.0)
        finished = sampler.finished
        sampler.stop()
    health = sampler.health
    # GIVEN py-spy hangs then keeps crashing THEN the first chunk is kept, the hang is
    # noticed within seconds, restarts are counted, and the sampler gives up saying why
    assert finished
    assert len(batches) == 1 and batches[0].count > 0
    assert health.state == "failed"
    assert health.restarts >= 3
    assert any("hung" in e for e in health.errors)
    assert any("simulated crash" in e for e in health.errors)
    assert isinstance(sampler.error, SamplerFailedError)
    assert "simulated crash" in str(sampler.error)
    # lost time counts against coverage
    assert health.coverage < 0.6


def _start_error(pid: int) -> Exception | None:
    """The error a sampler gives for `pid`: from start(), or (on a slow machine, when
    py-spy takes longer than start() waits) once the sampler has finished."""
    sampler = PySpySampler(pid)
    try:
        sampler.start()
    except Exception as exc:
        return exc
    try:
        _collect(sampler, 5.0)
    finally:
        sampler.stop()
    return sampler.error


@pytest.mark.pyspy
def test_start_rejects_a_missing_pid_and_a_non_python_process() -> None:
    with running_target("cpu_75_25", "0.01", settle=0.0) as pid:
        pass
    missing = _start_error(pid)
    assert isinstance(missing, TargetNotFoundError) and "no process" in str(missing)
    sleeper = subprocess.Popen(["sleep", "30"])  # noqa: S603, S607
    try:
        not_python = _start_error(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert isinstance(not_python, NotPythonError) and "not a Python process" in str(not_python)
