"""`flametop record`: the command-line shell over samplers.session.record — turns arguments into
a request, stops cleanly on Ctrl-C / SIGTERM, and prints the summary."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TextIO

from samplers.errors import SamplerFailedError
from samplers.formats.validate import OutputSpec, validate_outputs
from samplers.model import Health
from samplers.session.push import PushRequest, PushStatus
from samplers.session.record import RecordRequest, RecordResult, hottest, record
from samplers.session.spool import default_spool_dir
from samplers.session.upload import check_app, parse_server, parse_tags
from tui.render.safe_text import clean


def _say(line: str) -> None:
    print(f"flametop: {line}", file=sys.stderr, flush=True)


def build_push(args: argparse.Namespace) -> PushRequest | None:
    """record --server: the server, app, tags and spool, checked before sampling."""
    if getattr(args, "server", None) is None:
        return None
    server = parse_server(
        args.server, tenant=args.tenant or "", cacert=args.cacert or "", timeout=args.timeout
    )
    app = check_app(args.app)
    spool = args.spool or str(default_spool_dir(app))
    return PushRequest(server, app, spool, parse_tags(args.tag or ()), args.every)


def build_request(args: argparse.Namespace) -> RecordRequest:
    push = build_push(args)
    outputs: tuple[OutputSpec, ...] = ()
    if args.output or push is None:  # with --server, -o is optional
        outputs = validate_outputs(args.output, args.format, args.force)
    return RecordRequest(
        push=push,
        outputs=outputs,
        pid=args.pid,
        cmd=tuple(args.cmd or ()),
        duration=args.duration,
        options=args.sampling,
        force=args.force,
        sampler=args.sampler,
    )


def _samples_line(health: Health, stacks: int, mode: str, processes: int = 1) -> str:
    """What each count is: instants sampled against asked for, then the thread stacks
    they gave in this mode (one per thread per instant; idle threads only in wall)."""
    share = 100 * health.samples / health.expected if health.expected > 0 else 0.0
    asked = f"of {health.expected:.0f} asked for"
    gave = f"{stacks} thread stacks in {mode} mode"
    if health.chunks == 0:  # in-process: one reading of every thread per instant
        extra = f"; {health.late} late" if health.late else ""
        extra += f"; {health.sampling_errors} unreadable" if health.sampling_errors else ""
        # each process is sampled at the rate on its own: its instants add up
        over = f" (summed over {processes} processes)" if processes > 1 else ""
        return (
            f"  samples   {health.samples} instants sampled{over} {asked} "
            f"({share:.1f}% coverage{extra}); {gave}"
        )
    gaps = f"{1000 * health.gap_seconds_total:.0f} ms in gaps between {health.chunks} py-spy runs"
    if health.idle_unseen:  # py-spy's CLI leaves idle instants out: no loss figure
        held = "on-CPU" if mode == "cpu" else "GIL-holding"
        return (
            f"  samples   {health.samples} {held} instants {asked} "
            f"({share:.1f}%; the py-spy CLI does not count idle ones); {gave}; {gaps}"
        )
    return f"  samples   {health.samples} instants sampled {asked} ({share:.1f}% coverage); {gave}; {gaps}"


def summary_lines(result: RecordResult) -> list[str]:
    profile = result.profile.in_mode()
    meta = profile.metadata
    health = profile.health
    # Names and the command line come from the target: no escape reaches the terminal.
    cmd = clean(" ".join(meta.cmdline), 60)
    ended = {
        "duration": "duration reached",
        "interrupted": "stopped by you",
        "target-exited": "target exited",
        "sampler-failed": "sampler failed",
    }.get(result.ended_by, result.ended_by)
    lines = [
        f"recorded pid {result.pid} ({cmd}) for {meta.duration_s:.1f} s · {meta.mode} · "
        f"{meta.rate:g} Hz · {ended}"
    ]
    if health is not None:
        # every process sampled, idle ones too (the cpu view leaves an idle master out)
        sampled = result.profile.batches
        pids = {s.pid for b in sampled for s in b.samples if s.pid is not None}
        lines.append(_samples_line(health, profile.total, meta.mode, len(pids)))
        if health.restarts:
            last = health.errors[-1] if health.errors else "no message"
            lines.append(f"  sampler   restarted {health.restarts} times; last error: {last}")
        if meta.mode == "cpu" and profile.total < 0.5 * health.samples:
            # a mostly idle target: few stacks is what cpu mode keeps, not a loss
            lines.append("            (cpu mode keeps on-CPU stacks only; --mode wall sees idle)")
    wall = max(result.wall_seconds, 1e-9)
    tool = meta.sampler.split()[0] if meta.sampler else "its sampler"  # "py-spy 0.4.3"
    lines.append(
        f"  overhead  flametop + {tool} used {result.overhead_cpu_seconds:.2f} s CPU "
        f"({100 * result.overhead_cpu_seconds / wall:.1f}% of {wall:.1f} s wall time)"
    )
    top = hottest(profile, 5)
    if top and profile.total:
        lines.append("  hottest   %Own  %Total  function")
        for hot in top:
            lines.append(
                f"           {100 * hot.own / profile.total:5.1f}  {100 * hot.total / profile.total:5.1f}"
                f"   {clean(hot.label, 120)}"
            )
    else:
        lines.append("  hottest   (no samples)")
    if result.ended_by == "target-exited" and result.wall_seconds < 1.0:
        lines.append(
            f"  note      the target exited after {result.wall_seconds:.1f} s; "
            "a run of a few seconds gives a more useful profile"
        )
    if result.push is not None:
        p = result.push
        lines.append(
            f"  pushed    {p.sent} profiles sent, {p.spooled} left spooled, {p.dropped} dropped"
            + (f", {p.refused} refused" if p.refused else "")
            + (f", {p.empty} intervals without samples" if p.empty else "")
        )
        if not result.written:
            lines.append(
                "            (hottest above: the last interval; give -o to keep the whole run)"
            )
    for spec in result.written:
        lines.append(f"  wrote     {spec.path} ({spec.fmt})")
    for problem in result.problems:
        lines.append(f"  problem   {problem}")
    return lines


class StatusLine:
    """The one-line push status, rewritten in place on a terminal; nothing in a pipe."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._lock = threading.Lock()
        self._shown = False

    def __call__(self, status: PushStatus) -> None:
        if not self.live:
            return
        text = clean(f"flametop: {status.line()}", 160)
        with self._lock:
            try:
                self.stream.write(f"\r\x1b[K{text}")
                self.stream.flush()
                self._shown = True
            except OSError:
                self.live = False

    def end(self) -> None:
        with self._lock:
            if self._shown:
                try:
                    self.stream.write("\n")
                    self.stream.flush()
                except OSError:
                    pass
            self._shown = False
            self.live = False


def run_record(args: argparse.Namespace) -> int:
    request = build_request(args)  # before sampling: a bad -o costs no waiting
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}
    # SIGHUP too: a dropped SSH session must still leave the outputs written.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, on_signal)
    try:
        status = StatusLine()
        try:
            result = record(request, stop, log=_say, on_push=status)
        finally:
            status.end()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    try:
        for line in summary_lines(result):
            print(line, flush=True)
        if result.exit_code and result.problems:
            _say(result.problems[0])
    except OSError:
        pass  # the terminal went away (SIGHUP): the files are written, nothing to tell
    if result.exit_code == 1 and not result.written and result.push is None:
        raise SamplerFailedError(result.problems[0] if result.problems else "recording failed")
    return result.exit_code
