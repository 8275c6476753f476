"""Figures 1-4 and 8, against real py-spy on a real CPU-bound target
(bench/targets/throughput.py: 75% of its work in hot_three_quarters by design).

1 coverage and 4 accuracy: `flametop record` vs one `py-spy record` run, 20 s at 100 Hz.
2 own CPU, 3 target slowdown and 8 start-up: the target alone, under `py-spy top`,
  `flametop top` and `flametop top --production`, each tool in a real pseudo-terminal
  (tmux). Conditions are interleaved within each repeat so machine noise hits all alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from bench.common import (
    BIN,
    PYTHON,
    ROOT,
    Budget,
    Line,
    Measure,
    folded_counts,
    leaf_share,
    not_measured,
    ratio,
    run,
    tree_cpu_seconds,
    wait_until,
)

TARGET = ROOT / "bench" / "targets" / "throughput.py"
HOT = "hot_three_quarters"
RECORD_S = 20
RATE = 100
RUN_S = 10.0  # each top condition; throughput and CPU are taken over [STEADY_FROM, STEADY_TO)
STEADY_FROM, STEADY_TO = 3.0, 9.0
TMUX = ["tmux", "-L", os.environ.get("FLAMETOP_BENCH_TMUX", "flametop-bench"), "-f", "/dev/null"]


def _start_target(seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - fixed argument list
        [PYTHON, str(TARGET), str(seconds)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    try:
        out, _ = proc.communicate(timeout=RUN_S + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _throughput(out: str) -> float:
    """Work units per second over the steady part of the run, counting only time the
    target was not waiting for a CPU (schedstat): time a profiler holds it stopped still
    counts, time other processes on this shared machine took from it does not."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            rows.append((float(parts[0]), int(parts[1]), int(parts[3]) / 1e9))
    steady = [
        (t1 - t0 - (w1 - w0), n1)
        for (t0, _, w0), (t1, n1, w1) in zip(rows, rows[1:], strict=False)
        if STEADY_FROM <= t1 <= STEADY_TO + 0.5
    ]
    useful = sum(dt for dt, _ in steady)
    return sum(n for _, n in steady) / useful if useful > 0 else 0.0


# ---- 1 and 4: record --------------------------------------------------------------


def _record_flametop(pid: int, out: Path) -> tuple[dict[str, int], float]:
    """(folded counts, seconds sampled as the file's metadata states)."""
    cmd = [str(BIN / "flametop"), "record", "--pid", str(pid), "-d", str(RECORD_S)]
    cmd += ["--rate", str(RATE), "-o", str(out), "--force"]
    proc = run(cmd, timeout=RECORD_S + 30)
    if proc.returncode != 0:
        raise RuntimeError(f"flametop record failed: {proc.stderr.strip()[-200:]}")
    text = out.read_text(encoding="utf-8")
    duration = float(RECORD_S)
    for line in text.splitlines():
        if line.startswith("# duration_s:"):
            duration = float(line.split(":", 1)[1].strip().strip('"'))
    return folded_counts(text), duration


def _record_pyspy(pid: int, out: Path) -> tuple[dict[str, int], float]:
    cmd = [str(BIN / "py-spy"), "record", "--pid", str(pid), "-d", str(RECORD_S)]
    cmd += ["-r", str(RATE), "-f", "raw", "-o", str(out)]
    proc = run(cmd, timeout=RECORD_S + 30)
    if proc.returncode != 0:
        raise RuntimeError(f"py-spy record failed: {proc.stderr.strip()[-200:]}")
    return folded_counts(out.read_text(encoding="utf-8")), float(RECORD_S)


def record_figures(repeats: int) -> list[Line]:
    who_all = ("flametop", "py-spy")
    cov: dict[str, list[float]] = {who: [] for who in who_all}
    err: dict[str, list[float]] = {who: [] for who in who_all}
    n_samples: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            # one target per repeat, both recorders in turn (order alternates)
            target = _start_target(len(who_all) * RECORD_S + 15)
            try:
                time.sleep(0.5)
                order = who_all[i % 2 :] + who_all[: i % 2]  # rotate the order per repeat
                for who in order:
                    out = Path(tmp) / f"{who}-{i}.txt"
                    if who == "py-spy":
                        counts, seconds = _record_pyspy(target.pid, out)
                    else:
                        counts, seconds = _record_flametop(target.pid, out)
                    cov[who].append(100 * sum(counts.values()) / (RATE * seconds))
                    n_samples.append(sum(counts.values()))
                    err[who].append(abs(100 * leaf_share(counts, HOT) - 75.0))
            finally:
                target.kill()
                target.communicate()
    ours, peer = Measure(tuple(cov["flametop"]), "%"), Measure(tuple(cov["py-spy"]), "%")
    e_ours, e_peer = Measure(tuple(err["flametop"]), "pts"), Measure(tuple(err["py-spy"]), "pts")
    # A share measured from n samples is only known to within its standard error
    # (about 1 point at n = 2000): "no worse than py-spy" is judged within that.
    noise = 100 * (0.75 * 0.25 / max(1, min(n_samples, default=1))) ** 0.5
    return [
        Line(
            "1 coverage",
            f"samples ÷ asked, {RECORD_S} s at {RATE} Hz",
            ours,
            peer,
            "py-spy record",
            ratio(ours, peer),
            "≥ 97% and ≥ py-spy",
            ours.median >= 97 and ours.median >= peer.median,
            "flametop record (chunked live sampler) vs one py-spy record run, same target; "
            "asked = rate × the duration each tool says it sampled",
        ),
        Line(
            "4 accuracy",
            f"error of the {HOT} share vs the designed 75%",
            e_ours,
            e_peer,
            "py-spy record",
            ratio(e_ours, e_peer),
            "≤ 2 pts and ≤ py-spy",
            e_ours.median <= 2 and e_ours.median <= e_peer.median + noise,
            "error of the measured own share of the hot function, from the coverage runs; "
            f"compared with py-spy's within the sampling noise of one standard error ({noise:.1f} pts)",
        ),
    ]


# ---- 2, 3 and 8: top in a pseudo-terminal -----------------------------------------


def _tool_cmd(kind: str, pid: int, save_dir: str) -> list[str]:
    if kind == "py-spy top":
        return [str(BIN / "py-spy"), "top", "--pid", str(pid), "--rate", str(RATE)]
    cmd = [str(BIN / "flametop"), "top", "--pid", str(pid), "--save-dir", save_dir]
    return cmd + (["--production"] if kind.endswith("--production") else [])


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


def _one_condition(
    kind: str, save_dir: str
) -> tuple[float, tuple[float, float] | None, float | None]:
    """(target throughput, tool CPU % of one core (itself, its children), seconds to the
    first populated screen)."""
    target = _start_target(RUN_S)
    started = time.monotonic()
    session = f"b{target.pid}"
    cpu: tuple[float, float] | None = None
    startup: float | None = None
    try:
        if kind != "alone":
            cmd = _tool_cmd(kind, target.pid, save_dir)
            t0 = time.monotonic()
            run(
                [*TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", *cmd],
                timeout=10,
            )
            if wait_until(lambda: HOT in _pane_text(session), timeout=STEADY_FROM, step=0.05):
                startup = time.monotonic() - t0
            tool = _tool_process(session, Path(cmd[0]).name)
            time.sleep(max(0.0, started + STEADY_FROM - time.monotonic()))
            a = tree_cpu_seconds(tool) if tool else (0.0, 0.0)
            ta = time.monotonic()
            time.sleep(max(0.0, started + STEADY_TO - time.monotonic()))
            b = tree_cpu_seconds(tool) if tool else (0.0, 0.0)
            wall = time.monotonic() - ta
            if tool:
                cpu = (100 * (b[0] - a[0]) / wall, 100 * (b[1] - a[1]) / wall)
    finally:
        if kind != "alone":
            run([*TMUX, "send-keys", "-t", session, "q"], timeout=5)
            time.sleep(0.3)
            run([*TMUX, "kill-session", "-t", session], timeout=5)
        out = _stop(target)
    return _throughput(out), cpu, startup


def top_figures(repeats: int, budget: Budget) -> list[Line]:
    if shutil.which("tmux") is None:
        reason = "tmux is not installed (needed for a real pseudo-terminal)"
        return [
            not_measured(f, "top vs py-spy top", reason)
            for f in ("2 own CPU", "3 slowdown", "8 start-up")
        ]
    kinds = (
        "alone",
        "py-spy top",
        "flametop top",
        "flametop top --production",
    )
    thr: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    split: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    start: dict[str, list[float]] = {k: [] for k in kinds}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as save_dir:
        for i in range(repeats):
            if i and budget.left() < len(kinds) * (RUN_S + 3) + 60:
                failures.append(f"stopped after {i} repeats to stay within the time budget")
                break
            n = i % len(kinds)
            for kind in kinds[n:] + kinds[:n]:  # rotate the order per repeat
                t, c, s = _one_condition(kind, save_dir)
                thr[kind].append(t)
                if c is not None:
                    cpu[kind].append(c[0] + c[1])
                    split[kind].append(c)
                if s is not None:
                    start[kind].append(s)
                elif kind != "alone":
                    failures.append(f"{kind}: no populated screen within {STEADY_FROM:.0f} s")
    lines: list[Line] = []
    note = "; ".join(dict.fromkeys(failures))
    ft, ps, prod = "flametop top", "py-spy top", "flametop top --production"
    if cpu[ft] and cpu[ps]:
        ours, peer = Measure(tuple(cpu[ft]), "% CPU"), Measure(tuple(cpu[ps]), "% CPU")
        r = ratio(ours, peer)
        lines.append(
            Line(
                "2 own CPU",
                "flametop top (app + py-spy children) vs py-spy top",
                ours,
                peer,
                ps,
                r,
                "≤ 1.3× py-spy top",
                r is not None and r <= 1.3,
                f"steady state, {STEADY_TO - STEADY_FROM:.0f} s in tmux; of which the app itself "
                + Measure(tuple(x[0] for x in split[ft]), "%").text()
                + " and its py-spy children "
                + Measure(tuple(x[1] for x in split[ft]), "%").text()
                + "; --production: "
                + (Measure(tuple(cpu[prod]), "% CPU").text() if cpu[prod] else "n/a")
                # measured apart (13:10 UTC, 2 cores): one continuous py-spy record
                # 2.0-2.3 %, eight 1 s runs back to back 3.0-3.1 %, 2 s / 3 s chunks
                # cut the children by ~9 % / ~22 % only
                + "; limit: py-spy writes only when a run ends, so live sampling restarts "
                "it every second and each run's attach costs ~10 ms CPU (the children "
                "alone exceed py-spy top's total)",
            )
        )
    else:
        lines.append(
            not_measured("2 own CPU", "flametop top vs py-spy top", note or "no CPU readings")
        )
    alone = Measure(tuple(thr["alone"]), "units/s", 0)
    for kind, goal in (
        (ps, ""),
        (ft, "≥ py-spy top's"),
        (prod, "≥ 99% of alone"),
    ):
        if not thr[kind] or not alone.median:
            lines.append(not_measured("3 slowdown", kind, "no throughput readings"))
            continue
        rel = Measure(tuple(100 * v / alone.median for v in thr[kind]), "% of alone")
        met: bool | None = None
        if kind == ft and thr[ps]:
            met = statistics.median(thr[kind]) >= 0.99 * statistics.median(thr[ps])
        elif kind == prod:
            met = rel.median >= 99.0
        lines.append(
            Line(
                "3 slowdown",
                f"target throughput under {kind}",
                rel,
                alone if kind == ps else None,
                "alone" if kind == ps else "",
                None,
                goal,
                met,
                "work per second not spent waiting for a CPU (schedstat)"
                + ("; flametop within 1% of py-spy top counts as no slower" if kind == ft else ""),
            )
        )
    if start[ft] and start[ps]:
        ours, peer = Measure(tuple(start[ft]), "s", 2), Measure(tuple(start[ps]), "s", 2)
        lines.append(
            Line(
                "8 start-up",
                "command to first populated table",
                ours,
                peer,
                ps,
                ratio(ours, peer),
                "< 1.5 s",
                ours.median < 1.5,
                ("flametop top --pid in tmux until the hot function is on screen; " + note).strip(
                    "; "
                ),
            )
        )
    else:
        lines.append(not_measured("8 start-up", "first populated table", note or "no screen seen"))
    return lines


def live(repeats: int, budget: Budget) -> list[Line]:
    lines: list[Line] = []
    for name, section in (
        ("top", lambda: top_figures(repeats, budget)),
        ("record", lambda: record_figures(repeats)),
    ):
        try:
            lines += section()
        except Exception as exc:  # e.g. py-spy cannot attach here: say so, keep going
            figures = (
                ("2 own CPU", "3 slowdown", "8 start-up")
                if name == "top"
                else ("1 coverage", "4 accuracy")
            )
            lines += [not_measured(f, name, f"{type(exc).__name__}: {exc}") for f in figures]
    return lines
