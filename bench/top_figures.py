"""Figures 2 own CPU, 3 target slowdown, 8 start-up and 9 latency: each tool in a real
pseudo-terminal (tmux) on the same targets, conditions interleaved within each repeat."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.common import (
    BIN,
    Budget,
    Line,
    Measure,
    not_measured,
    ratio,
    run,
    tree_cpu_seconds,
    wait_until,
)
from bench.live_common import (
    HOT,
    IDLE_HOT,
    IDLE_TARGET,
    LAG,
    RATE,
    RUN_S,
    SHORT_S,
    STEADY_FROM,
    TARGET,
    TMUX,
    start_target,
    stop_target,
    throughput_of,
)


def _tool_cmd(kind: str, pid: int, save_dir: str) -> list[str]:
    if kind == "py-spy top":
        return [str(BIN / "py-spy"), "top", "--pid", str(pid), "--rate", str(RATE)]
    cmd = [str(BIN / "flametop"), "top", "--pid", str(pid), "--save-dir", save_dir]
    if kind.endswith("--production"):
        cmd.append("--production")
    if kind.endswith("--sampler py-spy"):
        cmd += ["--sampler", "py-spy"]
    return cmd


def _pane_text(session: str) -> str:
    proc = run([*TMUX, "capture-pane", "-p", "-t", session], timeout=5)
    return proc.stdout


def _tool_process(session: str, argv0: str) -> psutil.Process | None:
    proc = run([*TMUX, "list-panes", "-t", session, "-F", "#{pane_pid}"], timeout=5)
    try:
        pane = psutil.Process(int(proc.stdout.split()[0]))
    except (ValueError, IndexError, psutil.Error):
        return None
    for p in [pane, *pane.children(recursive=True)]:
        try:
            if any(argv0 in part for part in p.cmdline()[:2]):
                return p
        except psutil.Error:
            continue
    return pane


@dataclass
class Run:
    throughput: float = 0.0
    cpu_total: float | None = None  # % of a core from the command's start, start-up included
    cpu_steady: float | None = None  # % of a core from STEADY_FROM on
    split_total: tuple[float, float] | None = None  # (process itself, its children)
    startup: float | None = None
    lag: tuple[float, float] | None = None  # p50, p95 ms off the lag rail
    notes: list[str] = field(default_factory=list)


def _one_condition(kind: str, target_path: Path, hot: str, save_dir: str) -> Run:
    seconds = SHORT_S if kind in ("alone", "flametop top --production") else RUN_S
    target = start_target(target_path, seconds + 2)
    session = f"b{target.pid}"
    res = Run()
    time.sleep(0.3)  # let the interpreter start before attaching
    started = time.monotonic()
    try:
        if kind != "alone":
            cmd = _tool_cmd(kind, target.pid, save_dir)
            t0 = time.monotonic()
            run(
                [*TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", *cmd],
                timeout=10,
            )
            if wait_until(lambda: hot in _pane_text(session), timeout=STEADY_FROM, step=0.02):
                res.startup = time.monotonic() - t0
            tool = _tool_process(session, Path(cmd[0]).name)
            time.sleep(max(0.0, started + STEADY_FROM - time.monotonic()))
            a = tree_cpu_seconds(tool) if tool else (0.0, 0.0)
            ta = time.monotonic()
            time.sleep(max(0.0, started + seconds - time.monotonic()))
            b = tree_cpu_seconds(tool) if tool else (0.0, 0.0)
            tb = time.monotonic()
            if kind.startswith("flametop"):
                m = LAG.search(_pane_text(session))
                if m:
                    res.lag = (float(m.group(1)), float(m.group(2)))
            if tool:
                # from the command's start: everything the process (and its reaped or
                # live children) used since it was created
                since = max(1e-3, tb - t0)
                res.cpu_total = 100 * (b[0] + b[1]) / since
                res.split_total = (100 * b[0] / since, 100 * b[1] / since)
                res.cpu_steady = 100 * (b[0] - a[0] + b[1] - a[1]) / max(1e-3, tb - ta)
        else:
            time.sleep(max(0.0, started + seconds - time.monotonic()))
    finally:
        if kind != "alone":
            run([*TMUX, "send-keys", "-t", session, "q"], timeout=5)
            time.sleep(0.3)
            run([*TMUX, "kill-session", "-t", session], timeout=5)
        out = stop_target(target, 15)
    res.throughput = throughput_of(out, seconds - 1)
    return res


def _runs(
    kinds: tuple[str, ...], target: Path, hot: str, repeats: int, budget: Budget, save_dir: str
) -> tuple[dict[str, list[Run]], list[str]]:
    got: dict[str, list[Run]] = {k: [] for k in kinds}
    failures: list[str] = []
    per_repeat = sum(
        (SHORT_S if k in ("alone", "flametop top --production") else RUN_S) + 3 for k in kinds
    )
    for i in range(repeats):
        if i and budget.left() < per_repeat + 60:
            failures.append(f"stopped after {i} repeats to stay within the time budget")
            break
        n = i % len(kinds)
        for kind in kinds[n:] + kinds[:n]:  # rotate the order per repeat
            r = _one_condition(kind, target, hot, save_dir)
            got[kind].append(r)
            if kind != "alone" and r.startup is None:
                failures.append(f"{kind}: no populated screen within {STEADY_FROM:.0f} s")
    return got, failures


def _m(values: list[float | None], unit: str, digits: int = 1) -> Measure | None:
    vals = tuple(v for v in values if v is not None)
    return Measure(vals, unit, digits) if vals else None


PS, FT, CLI, PROD = (
    "py-spy top",
    "flametop top",
    "flametop top --sampler py-spy",
    "flametop top --production",
)


def _cpu_lines(got: dict[str, list[Run]], where: str, note: str) -> list[Line]:
    lines: list[Line] = []
    secs = f"{RUN_S:.0f} s run (not 60 s: time budget)"
    peer_t = _m([r.cpu_total for r in got[PS]], "% CPU")
    peer_s = _m([r.cpu_steady for r in got[PS]], "% CPU")
    for kind in (FT, CLI):
        if kind not in got:
            continue
        ours_t = _m([r.cpu_total for r in got[kind]], "% CPU")
        ours_s = _m([r.cpu_steady for r in got[kind]], "% CPU")
        label = (
            "flametop top (in-process, app + sampler)"
            if kind == FT
            else ("flametop top --sampler py-spy (CLI fallback: app + py-spy children)")
        )
        if not (ours_t and peer_t and ours_s and peer_s):
            lines.append(not_measured("2 own CPU", f"{label}, {where}", note or "no CPU readings"))
            continue
        r_t, r_s = ratio(ours_t, peer_t), ratio(ours_s, peer_s)
        goal = "≤ 1.0× py-spy top" if kind == FT else ""
        split = [r.split_total for r in got[kind] if r.split_total]
        extra = (
            "; of which the app itself "
            + Measure(tuple(x[0] for x in split), "%").text()
            + " and its children "
            + Measure(tuple(x[1] for x in split), "%").text()
            if kind == CLI and split
            else ""
        )
        lines.append(
            Line(
                "2 own CPU",
                f"{label} vs py-spy top, {where}, whole {secs}, start-up included",
                ours_t,
                peer_t,
                PS,
                r_t,
                goal,
                (r_t is not None and r_t <= 1.0) if goal else None,
                "CPU of the tool's process tree from the command's start to the end of the run, "
                "÷ that wall time; in tmux (a real pseudo-terminal)" + extra,
            )
        )
        lines.append(
            Line(
                "2 own CPU",
                f"{label} vs py-spy top, {where}, steady state (from {STEADY_FROM:.0f} s to {RUN_S:.0f} s)",
                ours_s,
                peer_s,
                PS,
                r_s,
                goal,
                (r_s is not None and r_s <= 1.0) if goal else None,
                f"the same runs, CPU from {STEADY_FROM:.0f} s after the start on",
            )
        )
    return lines


def top_figures(repeats: int, budget: Budget) -> list[Line]:
    figs = ("2 own CPU", "3 slowdown", "8 start-up", "9 latency")
    if shutil.which("tmux") is None:
        reason = "tmux is not installed (needed for a real pseudo-terminal)"
        return [not_measured(f, "top vs py-spy top", reason) for f in figs]
    lines: list[Line] = []
    with tempfile.TemporaryDirectory() as save_dir:
        busy, f_busy = _runs(("alone", PS, FT, CLI, PROD), TARGET, HOT, repeats, budget, save_dir)
        idle, f_idle = _runs((PS, FT), IDLE_TARGET, IDLE_HOT, repeats, budget, save_dir)
    n_busy = "; ".join(dict.fromkeys(f_busy))
    n_idle = "; ".join(dict.fromkeys(f_idle))
    one, fifty = "one busy thread", "50 idle threads + 1 busy"
    lines += _cpu_lines(busy, one, n_busy)
    lines += _cpu_lines(idle, fifty, n_idle)
    # 3: throughput of the busy target, steady part
    alone = _m([r.throughput for r in busy["alone"]], "units/s", 0)
    for kind, goal in ((PS, ""), (FT, "≥ py-spy top's"), (CLI, ""), (PROD, "≥ 99% of alone")):
        thr = [r.throughput for r in busy[kind]]
        if not thr or not alone or not alone.median:
            lines.append(not_measured("3 slowdown", kind, "no throughput readings"))
            continue
        rel = Measure(tuple(100 * v / alone.median for v in thr), "% of alone")
        met: bool | None = None
        if kind == FT and busy[PS]:
            met = statistics.median(thr) >= 0.99 * statistics.median(
                [r.throughput for r in busy[PS]]
            )
        elif kind == PROD:
            met = rel.median >= 99.0
        lines.append(
            Line(
                "3 slowdown",
                f"target throughput under {kind}",
                rel,
                alone if kind == PS else None,
                "alone" if kind == PS else "",
                None,
                goal,
                met,
                "work per second not spent waiting for a CPU (schedstat), one busy thread"
                + ("; flametop within 1% of py-spy top counts as no slower" if kind == FT else ""),
            )
        )
    # 8: start-up
    for got, where, note in ((busy, one, n_busy), (idle, fifty, n_idle)):
        ours = _m([r.startup for r in got[FT]], "s", 2)
        peer = _m([r.startup for r in got[PS]], "s", 2)
        if ours and peer:
            lines.append(
                Line(
                    "8 start-up",
                    f"command to first populated table, {where}",
                    ours,
                    peer,
                    PS,
                    ratio(ours, peer),
                    "≤ 0.4 s",
                    ours.median <= 0.4,
                    (
                        "flametop top --pid in tmux until the busy function is on screen "
                        "(pane polled every 20 ms); " + note
                    ).strip("; "),
                )
            )
        else:
            lines.append(
                not_measured(
                    "8 start-up", f"first populated table, {where}", note or "no screen seen"
                )
            )
    # 9: sample-to-screen latency off the lag rail
    for got, where in ((busy, one), (idle, fifty)):
        p95 = _m([r.lag[1] if r.lag else None for r in got[FT]], "ms", 0)
        p50 = _m([r.lag[0] if r.lag else None for r in got[FT]], "ms", 0)
        cli = _m([r.lag[1] if r.lag else None for r in got.get(CLI, [])], "ms", 0)
        if not p95:
            lines.append(
                not_measured("9 latency", f"sample to screen p95, {where}", "no lag rail read")
            )
            continue
        lines.append(
            Line(
                "9 latency",
                f"sample to screen p95, flametop top, {where}",
                p95,
                None,
                "",
                None,
                "≤ 500 ms",
                p95.median <= 500,
                "read off the app's lag rail at the end of each run (age of the newest sample "
                f"when shown, over the last 30 s); p50 {p50.text() if p50 else 'n/a'}"
                + (f"; --sampler py-spy p95 {cli.text()}" if cli else ""),
            )
        )
    return lines
