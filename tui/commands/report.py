"""`flametop report`: print a saved profile's top functions, compare it with a baseline,
or convert it to other formats (with a baseline, an SVG output is the differential flame
graph). Reading is done once; every problem a file can have becomes one line, exit 2."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rich.console import Console

from samplers.errors import FormatError, UsageError
from samplers.formats import detect_format, read_profile, write_profile
from samplers.formats.fileio import atomic_write
from samplers.formats.svg import write_diff
from samplers.formats.validate import validate_outputs
from samplers.model import Profile
from samplers.session.gate import EXIT_GREW, Growth, Metric, gate_json, grown, largest
from samplers.session.report import Report, build_diff, build_report, report_json
from tui.render.safe_text import clean


def load_profile(path: str, sample_type: str | None = None) -> tuple[Profile, str]:
    """The profile in `path` and the format it was found to be. Any failure to read it,
    even a reader bug, is a FormatError naming the file: never a traceback."""
    try:
        fmt = detect_format(path)
        return read_profile(path, fmt, sample_type=sample_type), fmt
    except FormatError:
        raise
    except MemoryError:
        raise FormatError(f"{path}: too large to read into memory") from None
    except Exception as exc:  # noqa: BLE001 - a corrupt file must not become a traceback
        what = str(exc).splitlines()[0][:100] if str(exc) else ""
        raise FormatError(
            f"{path}: cannot be read ({type(exc).__name__}{': ' + what if what else ''});"
            " is it a complete profile file?"
        ) from None


def _write_outputs(
    args: argparse.Namespace, profile: Profile, baseline: Profile | None
) -> list[str]:
    """Write every -o; returns the lines to tell the user."""
    specs = validate_outputs(args.output, args.format, args.force)
    told: list[str] = []
    for spec in specs:
        if baseline is not None and spec.fmt == "svg":
            atomic_write(spec.path, write_diff(profile, baseline), overwrite=args.force)
            told.append(f"wrote {spec.path} (differential flame graph vs {args.baseline})")
        else:
            write_profile(profile, spec.path, spec.fmt, overwrite=args.force)
            told.append(f"wrote {spec.path} ({spec.fmt})")
    return told


def run_report(args: argparse.Namespace) -> int:
    if args.format and not args.output:
        raise UsageError("--format names the format of each -o OUT; give -o OUT too")
    fail_over = getattr(args, "fail_over", None)
    # argparse allows only total|own; callers building args by hand may leave it out
    metric: Metric = "own" if getattr(args, "metric", "total") == "own" else "total"
    if fail_over is not None and not args.baseline:
        raise UsageError("--fail-over compares with a baseline; give --baseline OLD too")
    profile, fmt = load_profile(args.file, args.sample_type)
    baseline: Profile | None = None
    baseline_fmt = ""
    if args.baseline:
        baseline, baseline_fmt = load_profile(args.baseline, args.sample_type)
    report: Report
    if baseline is None:
        report = build_report(profile, args.file)
    else:
        report = build_diff(profile, baseline, args.file, args.baseline)
    found: tuple[Growth, ...] = ()
    if fail_over is not None:
        found = grown(report, fail_over, metric)
    code = EXIT_GREW if found else 0
    if args.output:
        for line in _write_outputs(args, profile, baseline):
            print(f"flametop: {line}", file=sys.stderr)
        if not args.json:
            _tell_gate(report, found, fail_over, metric)
            return code
    try:
        if args.json:
            doc = report_json(report, args.top, fmt, baseline_fmt)
            if fail_over is not None:
                doc["gate"] = gate_json(found, fail_over, metric)
            # ASCII only: no raw C1 control character can reach a terminal.
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            from tui.render.report_table import print_report

            console = Console(highlight=False, soft_wrap=False)
            print_report(report, args.top, console, fmt, baseline_fmt)
        sys.stdout.flush()
    except BrokenPipeError:
        # `flametop report … | head`: the reader has gone; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    _tell_gate(report, found, fail_over, metric)
    return code


def _tell_gate(
    report: Report, found: tuple[Growth, ...], points: float | None, metric: Metric
) -> None:
    """The gate's verdict on stderr: each function over the threshold, or the largest growth."""
    if points is None:
        return
    if found:
        print(
            f"flametop: {len(found)} function(s) grew by more than {points:g} points of "
            f"{metric} share (exit {EXIT_GREW}):",
            file=sys.stderr,
        )
        for g in found:
            print(f"  {clean(g.line(metric), 200)}", file=sys.stderr)
        return
    top = largest(report, metric)
    most = f"; the largest growth: {clean(top.line(metric), 200)}" if top and top.points > 0 else ""
    print(
        f"flametop: no function grew by more than {points:g} points of {metric} share{most}",
        file=sys.stderr,
    )
