"""`flametop record` without the command line: given outputs already checked
(samplers/formats/validate.py), start or attach to the target, sample until the duration,
the target's exit or a stop request, and write what was collected to every output.
Printing is left to the caller."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from samplers.backends.registry import check_request, find_sampler, make_sampler, sampler_version
from samplers.errors import (
    FlametopError,
    OutputError,
    SamplerFailedError,
    TargetExitedError,
    TargetNotFoundError,
)
from samplers.formats import write_profile
from samplers.formats.validate import OutputSpec
from samplers.model import Profile, SampleBatch, SamplingOptions, SystemReading
from samplers.session.push import IntervalCutter, Pusher, PushRequest, PushStatus, open_pusher
from samplers.target.facts import TargetFacts
from samplers.target.launcher import launch
from samplers.target.launcher import stop as stop_command
from samplers.target.system import SystemMonitor, find_python_process, self_cpu_seconds

READING_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class RecordRequest:
    outputs: tuple[OutputSpec, ...]
    pid: int | None = None
    cmd: tuple[str, ...] = ()
    duration: float = 30.0
    options: SamplingOptions = field(default_factory=SamplingOptions)
    force: bool = False
    sampler: str = "auto"  # one of samplers.backends.registry.SAMPLERS
    push: PushRequest | None = None  # record --server: push every interval


@dataclass(frozen=True, slots=True)
class RecordResult:
    profile: Profile
    pid: int
    wall_seconds: float
    overhead_cpu_seconds: float
    ended_by: str  # "duration", "interrupted", "target-exited", "sampler-failed"
    written: tuple[OutputSpec, ...] = ()
    exit_code: int = 0
    problems: tuple[str, ...] = field(default=())  # one line each, for exit code 1
    push: PushStatus | None = None


def _exits_soon(child: subprocess.Popen[bytes], within: float = 1.0) -> bool:
    """Has our child exited, or does it within `within` s? Python behind a shim or a
    wrapper may be gone a moment before the wrapper itself."""
    deadline = time.monotonic() + within
    while not _exited(child):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _exited(child: subprocess.Popen[bytes]) -> bool:
    """Has our child exited? Without reaping it: its CPU must not yet count as ours."""
    try:
        info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def record(
    req: RecordRequest,
    stop: threading.Event | None = None,
    log: Callable[[str], None] = lambda _line: None,
    on_push: Callable[[PushStatus], None] = lambda _status: None,
) -> RecordResult:
    """Run one recording. Raises FlametopError when nothing could be sampled; otherwise
    writes every output and returns the result (exit_code 1 when it ended badly)."""
    stop = stop or threading.Event()
    # before starting anything: a missing or unfit sampler is a usage problem
    check_request(req.sampler, req.options)
    find_sampler(req.sampler, req.options.native)
    # Before starting anything too: a spool in use by another flametop is a usage problem.
    pusher = open_pusher(req.push, on_push) if req.push is not None else None
    try:
        cpu_before = self_cpu_seconds()
        launched = launch(req.cmd) if req.cmd else None
        child = launched.proc if launched is not None else None
        try:
            return _record(req, stop, log, child, cpu_before, pusher)
        finally:
            if launched is not None:
                stop_command(launched)
                _point_at_log(launched.log, log)
    finally:
        if pusher is not None:
            pusher.stop(last_try=False)  # a no-op when _record stopped it


def _point_at_log(path: Path, log: Callable[[str], None]) -> None:
    """The command's own output stays out of the summary: say where it is, if anywhere."""
    try:
        if path.stat().st_size:
            log(f"the command's output is in {path}")
        else:
            path.unlink()
    except OSError:
        pass


def _record(
    req: RecordRequest,
    stop: threading.Event,
    log: Callable[[str], None],
    child: subprocess.Popen[bytes] | None,
    cpu_before: float,
    pusher: Pusher | None = None,
) -> RecordResult:
    started = time.time()
    pid = find_python_process(child.pid) if child is not None else req.pid
    assert pid is not None
    sampler = make_sampler(req.sampler, pid, req.options, our_child=child is not None)
    rate, mode = req.options.rate, req.options.mode
    facts = TargetFacts(pid)  # now: the target may be gone when the recording ends
    try:
        sampler.start()
    except TargetNotFoundError:
        if child is not None and _exits_soon(child):
            raise _exited_early(child, started) from None
        raise
    version = sampler_version(sampler)
    cutter = None
    if pusher is not None and req.push is not None:
        cutter = IntervalCutter(
            pusher,
            req.push.app,
            req.push.tags,
            req.push.every,
            started,
            lambda a, b: facts.metadata(
                sampler=version, rate=rate, mode=mode, start_time=a, duration_s=b - a
            ),
        )
        log(
            f"recording pid {pid} at {rate:g} Hz, {mode} mode, pushing to "
            f"{req.push.server.shown} every {req.push.every:g} s; Ctrl-C stops and spools "
            "what is not sent"
        )
    else:
        log(
            f"recording pid {pid} at {rate:g} Hz, {mode} mode, for up to "
            f"{req.duration:g} s; Ctrl-C stops early and still writes"
        )
    # Always-on pushing without -o keeps no history: memory stays flat for days.
    keep = cutter is None or bool(req.outputs)
    sampled = 0
    monitor = SystemMonitor(pid, exclude_from_self=child.pid if child is not None else None)
    batches: list[SampleBatch] = []
    readings: list[SystemReading] = [monitor.read()]
    deadline = started + req.duration
    next_reading = time.monotonic() + READING_INTERVAL
    ended_by = "duration"
    while True:
        now = time.time()
        if stop.is_set():
            ended_by = "interrupted"
            break
        if now >= deadline:
            break
        if sampler.finished:
            ended_by = "sampler-failed" if sampler.health.state == "failed" else "target-exited"
            break
        if child is not None and _exited(child):
            ended_by = "target-exited"
            break
        batch = sampler.poll(min(0.1, max(0.0, deadline - now)))
        if batch is not None:
            sampled += batch.count
            if keep:
                batches.append(batch)
            if cutter is not None:
                cutter.add(batch)
        if cutter is not None:
            cutter.tick(time.time())
        if time.monotonic() >= next_reading:
            reading = monitor.read()
            if keep:
                readings.append(reading)
            next_reading += READING_INTERVAL
    sampler.stop()
    while (batch := sampler.poll(0.0)) is not None:
        sampled += batch.count
        if keep:
            batches.append(batch)
        if cutter is not None:
            cutter.add(batch)
    push_status = None
    if cutter is not None and pusher is not None:
        cutter.finish(time.time())
        if not keep and cutter.last_interval is not None:
            batches = list(cutter.last_interval.batches)
        push_status = pusher.stop()
    if sampler.health.state == "target-exited" and ended_by != "interrupted":
        ended_by = "target-exited"
    wall = time.time() - started
    overhead = self_cpu_seconds(child.pid if child is not None else None) - cpu_before
    health = sampler.health
    if sampled == 0:
        if sampler.error is not None and health.chunks == 0:
            if isinstance(sampler.error, SamplerFailedError):
                # nothing was sampled, so this is not a failure midway: exit 2
                raise FlametopError(f"{req.sampler} could not sample pid {pid}: {sampler.error}")
            raise sampler.error
        if ended_by == "target-exited":
            if child is not None:
                raise _exited_early(child, started)
            raise TargetExitedError(
                f"pid {pid} exited after {wall:.1f} s before anything was sampled; "
                "attach while it is working, or start it with `flametop record -- CMD`"
            )
    metadata = facts.metadata(
        sampler=version,
        rate=rate,
        mode=mode,
        start_time=started,
        duration_s=(batches[-1].t_end - started) if batches else wall,
    )
    profile = Profile(metadata, tuple(batches), tuple(readings), health)
    problems: list[str] = []
    exit_code = 0
    if ended_by == "sampler-failed":
        exit_code = 1
        problems.append(str(sampler.error or SamplerFailedError(f"{req.sampler} failed")))
    elif ended_by == "target-exited" and child is None:
        exit_code = 1
        problems.append(f"pid {pid} exited after {wall:.1f} s; wrote what was collected")
    elif ended_by == "target-exited" and child is not None and _failed(child):
        exit_code = 1
        problems.append(
            f"the command {_how_it_ended(child)} after {wall:.1f} s; wrote what was collected"
        )
    if push_status is not None and req.push is not None:
        code, lines = push_problems(push_status, req.push)
        exit_code = max(exit_code, code)
        problems.extend(lines)
    written, write_errors = write_outputs(profile, req.outputs, req.force)
    if write_errors:
        problems.extend(e.message for e in write_errors)
        exit_code = max(exit_code, write_errors[0].exit_code)
    return RecordResult(
        profile=profile,
        pid=pid,
        wall_seconds=wall,
        overhead_cpu_seconds=max(0.0, overhead),
        ended_by=ended_by,
        written=written,
        exit_code=exit_code,
        problems=tuple(problems),
        push=push_status,
    )


def push_problems(status: PushStatus, req: PushRequest) -> tuple[int, list[str]]:
    """Exit code 1 and a line each when intervals were left spooled, refused or lost."""
    lines: list[str] = []
    if status.spooled:
        lines.append(
            f"{status.spooled} profiles are left in spool {req.spool_dir} "
            f"({status.last_error or 'not sent'}); send them with "
            f"`flametop upload --spool {req.spool_dir} --server URL`"
        )
    if status.refused:
        lines.append(f"the server rejected {status.refused} profiles: {status.last_error}")
    if status.dropped:
        lines.append(f"{status.dropped} profiles were dropped to keep the spool within its bounds")
    return (1 if lines else 0), lines


def _failed(child: subprocess.Popen[bytes]) -> bool:
    """Did the started command end with an error or a signal? (It has exited.)"""
    code = child.poll() if child.returncode is None else child.returncode
    if code is None:
        try:
            code = child.wait(1.0)
        except subprocess.TimeoutExpired:
            return False
    return code != 0


def _how_it_ended(child: subprocess.Popen[bytes]) -> str:
    code = child.returncode or 0
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _exited_early(child: subprocess.Popen[bytes], started: float) -> TargetExitedError:
    code = child.wait()
    return TargetExitedError(
        f"the command exited (code {code}) after {time.time() - started:.1f} s, before "
        "anything was sampled; profile a run that lasts at least a second or two"
    )


def write_outputs(
    profile: Profile, outputs: Sequence[OutputSpec], force: bool
) -> tuple[tuple[OutputSpec, ...], list[FlametopError]]:
    """Write every output; one that fails does not stop the others."""
    written: list[OutputSpec] = []
    errors: list[FlametopError] = []
    for spec in outputs:
        try:
            write_profile(profile, spec.path, spec.fmt, overwrite=force)
            written.append(spec)
        except FlametopError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(OutputError(f"cannot write {spec.path}: {exc.strerror or exc}"))
    return tuple(written), errors


@dataclass(frozen=True, slots=True)
class HotFunction:
    label: str  # `function (file)`
    own: int
    total: int


def hottest(profile: Profile, n: int = 5) -> tuple[HotFunction, ...]:
    """The `n` functions with the most own samples. A function is its name and file (its
    line moves as it runs); own = it is the leaf, total = stacks containing it, once per
    stack however deep it recurses. Thread and process roots (no file) are left out."""
    own: dict[tuple[str, str], int] = {}
    total: dict[tuple[str, str], int] = {}
    for sample in profile.in_mode().merged():
        keys = [(f.function, f.file) for f in sample.stack if f.file]
        for key in set(keys):
            total[key] = total.get(key, 0) + sample.count
        if sample.stack and sample.stack[-1].file:
            leaf = (sample.stack[-1].function, sample.stack[-1].file)
            own[leaf] = own.get(leaf, 0) + sample.count
    ranked = sorted(total, key=lambda k: (-own.get(k, 0), -total[k], k))[:n]
    return tuple(
        HotFunction(f"{fn} ({file})", own.get((fn, file), 0), total[(fn, file)])
        for fn, file in ranked
    )
