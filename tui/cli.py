"""The `flametop` command line: parses arguments and dispatches to one module per command.

Errors a user can cause arrive as FlametopError and are printed as one line; the exit code
is the error's (2 for bad usage or input, 1 when a run failed midway but its data was saved).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from samplers import __version__
from samplers.backends.registry import SAMPLERS, check_request
from samplers.errors import FlametopError
from samplers.model import MODES, SamplingOptions

COMMANDS = {
    "top": ("tui.commands.top", "run_top"),
    "record": ("tui.commands.record", "run_record"),
    "view": ("tui.commands.view", "run_view"),
    "report": ("tui.commands.report", "run_report"),
    "upload": ("tui.commands.upload", "run_upload"),
    "demo": ("tui.commands.top", "run_demo"),
}

# --production rates, from record's own CPU measured on tests/targets/cpu_75_25.py with
# --nonblocking, pushing every 10 s (README, "Uploading to Pyroscope"): 1.0% of a core at
# 5 Hz, 1.8% at 20 Hz, 3.5% at 100 Hz. Below 5 Hz the fixed part (readings, pushes)
# dominates, and 5 Hz still gives a busy thread 50 samples per 10 s interval.
PRODUCTION_RATE = 20.0  # top / record: a live view that still moves
PRODUCTION_PUSH_RATE = 5.0  # record --server: always on

FORMAT_CHOICES = ("svg", "pprof", "speedscope", "folded", "flametop")
SAMPLING_COMMANDS = ("top", "record", "demo")  # those given _add_sampling_options


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _add_target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pid", "-p", type=int, help="attach to this running Python process")
    p.add_argument(
        "cmd",
        nargs=argparse.REMAINDER,
        metavar="-- CMD ARGS",
        help="start this command and profile it (put it after --)",
    )


def _add_sampling_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sampling")
    g.add_argument(
        "--rate",
        "-r",
        type=_positive_float,
        default=None,
        help="samples per second (default 100; with --production 20, or 5 for record --server)",
    )
    g.add_argument(
        "--mode",
        choices=MODES,
        default="cpu",
        help="cpu: on-CPU only; wall: include idle threads; gil: only the GIL holder",
    )
    g.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default="auto",
        help="in-process: py-spy's library inside flametop (no child process; every mode "
        "at once); py-spy: the py-spy CLI in 1 s chunks; auto (default): in-process where "
        "it is built (with libunwind for --native), else py-spy",
    )
    g.add_argument("--threads", action="store_true", help="a root frame per thread")
    g.add_argument("--native", action="store_true", help="include native (C) frames")
    g.add_argument("--subprocesses", action="store_true", help="also profile child processes")
    g.add_argument(
        "--nonblocking",
        action="store_true",
        help="read the target without pausing it (lower overhead, rare torn stacks)",
    )
    g.add_argument(
        "--production",
        action="store_true",
        help="safe for live systems: nonblocking, 20 Hz (record --server: 5 Hz, measured "
        "1.0%% of a core against 1.8%% at 20 Hz and 3.5%% at 100 Hz) unless --rate is given",
    )
    g.add_argument(
        "--save-dir",
        default="flametop-snapshots",
        metavar="DIR",
        help="where snapshots and autosaves go (default ./flametop-snapshots)",
    )


def _add_server_options(p: argparse.ArgumentParser, required: bool) -> None:
    """Where and how profiles are sent (upload, record --server)."""
    g = p.add_argument_group("sending to a Pyroscope server")
    g.add_argument(
        "--server",
        required=required,
        metavar="URL",
        help="Pyroscope base URL (http or https; user:password@ for basic auth, as Grafana "
        "Cloud wants); a bearer token is read from FLAMETOP_UPLOAD_TOKEN",
    )
    g.add_argument("--app", metavar="NAME", help="application name the profiles go under")
    g.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label on every profile; repeat for several",
    )
    g.add_argument("--tenant", metavar="ID", help="tenant of a multi-tenant server (X-Scope-OrgID)")
    g.add_argument("--cacert", metavar="FILE", help="trust this CA bundle (PEM) for https")
    g.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="give up on a request after this long (default 10)",
    )
    g.add_argument(
        "--spool",
        metavar="DIR",
        help="spool directory of profiles waiting to be sent (default for record: "
        "$XDG_STATE_HOME/flametop/spool/APP)",
    )


def _add_format_options(p: argparse.ArgumentParser) -> None:
    """--format and --force, shared by the commands that write profile files."""
    p.add_argument(
        "--format",
        "-f",
        action="append",
        choices=FORMAT_CHOICES,
        default=None,
        help="format of each -o in order, when its suffix does not tell",
    )
    p.add_argument("--force", action="store_true", help="overwrite output files that exist")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flametop",
        description="Live sampling profiler for Python processes, in the terminal.",
        epilog="`flametop --pid PID` is short for `flametop top --pid PID`.",
    )
    parser.add_argument("--version", action="version", version=f"flametop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    top = sub.add_parser("top", help="live TUI on a running process or a command")
    _add_target_options(top)
    _add_sampling_options(top)

    rec = sub.add_parser("record", help="sample for a while and write profile files")
    _add_target_options(rec)
    _add_sampling_options(rec)
    rec.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="OUT",
        help="output file; repeat for several (format from suffix or --format)",
    )
    rec.add_argument(
        "-d",
        "--duration",
        type=_positive_float,
        default=None,
        help="seconds to sample (default 30; with --server until stopped); the run also "
        "ends when the target exits or on Ctrl-C",
    )
    rec.add_argument(
        "--every",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="with --server: push one profile every this many seconds (default 10, at least 1)",
    )
    _add_format_options(rec)
    _add_server_options(rec, required=False)

    view = sub.add_parser("view", help="open a saved profile in the TUI")
    view.add_argument("file", help="a .flametop capture or any supported profile file")
    view.add_argument("--baseline", metavar="FILE", help="compare against this profile")
    view.add_argument(
        "--save-dir",
        default="flametop-snapshots",
        metavar="DIR",
        help="where snapshots go (default ./flametop-snapshots)",
    )

    rep = sub.add_parser("report", help="print, convert or compare saved profiles")
    rep.add_argument("file", help="a profile file (flametop, py-spy, speedscope, pprof, folded)")
    rep.add_argument("--top", "-n", type=int, default=20, help="rows to print (default 20)")
    rep.add_argument("--baseline", metavar="FILE", help="compare against this profile")
    rep.add_argument(
        "--fail-over",
        type=_non_negative_float,
        metavar="POINTS",
        help="with --baseline: exit 3 when a function's share grew by more than POINTS "
        "percentage points (a CI gate)",
    )
    rep.add_argument(
        "--metric",
        choices=("total", "own"),
        default="total",
        help="the share --fail-over compares: total (default; the function and its callees) or own",
    )
    rep.add_argument("--json", action="store_true", help="print JSON for scripts")
    rep.add_argument("--sample-type", help="pprof: which sample type to read")
    rep.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="OUT",
        help="convert: write this file; repeat for several",
    )
    _add_format_options(rep)

    up = sub.add_parser(
        "upload", help="send profile files (or a spool) to a Pyroscope-compatible server"
    )
    up.add_argument(
        "files", nargs="*", metavar="FILE", help="profiles in any format flametop reads"
    )
    up.add_argument("--sample-type", help="pprof: which sample type to read")
    _add_server_options(up, required=True)

    demo = sub.add_parser("demo", help="the live TUI on a built-in demo workload")
    _add_sampling_options(demo)
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """`flametop --pid 42` and `flametop -- python app.py` mean `flametop top ...`."""
    if not argv:
        return argv
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    return ["top", *argv]


def _check_push_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.server is None:
        for name in ("app", "tenant", "cacert", "spool"):
            if getattr(args, name):
                parser.error(f"--{name} is for sending profiles; give --server URL too")
        if args.tag:
            parser.error("--tag is for sending profiles; give --server URL too")
        if args.duration is None:
            args.duration = 30.0
        return
    if not args.app:
        parser.error("give --app NAME with --server: the application the profiles go under")
    if args.every < 1:
        parser.error("--every must be at least 1 second (Pyroscope counts whole seconds)")
    if args.duration is None:
        args.duration = float("inf")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_normalise_argv(raw))
    if args.command is None:
        parser.print_help()
        raise SystemExit(2)
    cmd = getattr(args, "cmd", None)
    if cmd is not None:
        if cmd and cmd[0] == "--":
            cmd = cmd[1:]
        args.cmd = cmd
        if args.command in ("top", "record"):
            if args.pid is not None and cmd:
                parser.error("give either --pid PID or -- CMD ARGS, not both")
            if args.pid is None and not cmd:
                parser.error(
                    "give --pid PID of a running Python process, or -- CMD ARGS to start one"
                )
    if args.command == "record":
        _check_push_options(parser, args)
    if getattr(args, "production", False):
        if args.rate is None:
            pushing = getattr(args, "server", None) is not None
            args.rate = PRODUCTION_PUSH_RATE if pushing else PRODUCTION_RATE
        args.nonblocking = True
    if hasattr(args, "rate") and args.rate is None:
        args.rate = 100.0
    return args


def sampling_options(args: argparse.Namespace) -> SamplingOptions:
    """The one SamplingOptions of top/record/demo, from their arguments: checked here,
    before anything starts, against what the chosen backend (--sampler) can do."""
    options = SamplingOptions(
        mode=args.mode,
        rate=float(args.rate),
        threads=args.threads,
        native=args.native,
        subprocesses=args.subprocesses,
        nonblocking=args.nonblocking,
    )
    check_request(args.sampler, options)
    return options


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    module_name, func_name = COMMANDS[args.command]
    try:
        if args.command in SAMPLING_COMMANDS:
            args.sampling = sampling_options(args)
        func = getattr(importlib.import_module(module_name), func_name)
        code: int = func(args)
        return code
    except FlametopError as exc:
        print(f"flametop: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
