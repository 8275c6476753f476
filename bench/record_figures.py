"""Figures 1 coverage and 4 accuracy (`flametop record` vs `py-spy record`, 20 s at
100 Hz, same target) and 10 (1000 Hz on one busy thread: rate, coverage, own CPU)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BIN,
    Line,
    Measure,
    folded_counts,
    leaf_share,
    ratio,
)
from bench.live_common import (
    FAST_RATE,
    FAST_S,
    HOT,
    RATE,
    RECORD_S,
    RECORDED_FOR,
    SUMMARY,
    TARGET,
    start_target,
)


def _timed(cmd: list[str], timeout: float) -> tuple[str, str, int, float, float]:
    """(stdout, stderr, returncode, CPU seconds of the command and its children, wall s)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)  # noqa: S603
        deadline = t0 + timeout
        status: int | None = None
        ru = None
        while status is None or ru is None:
            pid, st, r = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, ru = st, r
            elif time.monotonic() > deadline:
                proc.kill()
            else:
                time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        return out.read(), err.read(), proc.returncode, ru.ru_utime + ru.ru_stime, wall


# ---- 1, 4 and 10: record -----------------------------------------------------------


@dataclass
class Recorded:
    counts: dict[str, int]
    seconds: float  # as the tool says it sampled
    cpu_s: float  # CPU of the whole command, start-up included
    wall_s: float
    instants: tuple[int, int, float, int] | None = None  # flametop's own health line


def _record_flametop(pid: int, out: Path, rate: int, seconds: int) -> Recorded:
    cmd = [str(BIN / "flametop"), "record", "--pid", str(pid), "-d", str(seconds)]
    cmd += ["--rate", str(rate), "-o", str(out), "--force", "--format", "folded"]
    stdout, stderr, rc, cpu, wall = _timed(cmd, seconds + 30)
    if rc != 0:
        raise RuntimeError(f"flametop record failed: {(stderr or stdout).strip()[-200:]}")
    dur = RECORDED_FOR.search(stdout)
    health = SUMMARY.search(stdout)
    inst = None
    if health:
        a, b, c, d = health.groups()
        inst = (int(a), int(b), float(c), int(d))
    return Recorded(
        folded_counts(out.read_text(encoding="utf-8")),
        float(dur.group(1)) if dur else float(seconds),
        cpu,
        wall,
        inst,
    )


def _record_pyspy(pid: int, out: Path, rate: int, seconds: int) -> Recorded:
    cmd = [str(BIN / "py-spy"), "record", "--pid", str(pid), "-d", str(seconds)]
    cmd += ["-r", str(rate), "-f", "raw", "-o", str(out)]
    stdout, stderr, rc, cpu, wall = _timed(cmd, seconds + 30)
    if rc != 0:
        raise RuntimeError(f"py-spy record failed: {(stderr or stdout).strip()[-200:]}")
    return Recorded(folded_counts(out.read_text(encoding="utf-8")), float(seconds), cpu, wall)


def _record_pair(repeats: int, rate: int, seconds: int) -> dict[str, list[Recorded]]:
    who_all = ("flametop", "py-spy")
    got: dict[str, list[Recorded]] = {who: [] for who in who_all}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            # one target per repeat, both recorders in turn (order alternates)
            target = start_target(TARGET, len(who_all) * (seconds + 5) + 15)
            try:
                time.sleep(0.5)
                order = who_all[i % 2 :] + who_all[: i % 2]
                for who in order:
                    out = Path(tmp) / f"{who}-{rate}-{i}.txt"
                    rec = _record_pyspy if who == "py-spy" else _record_flametop
                    got[who].append(rec(target.pid, out, rate, seconds))
            finally:
                target.kill()
                target.communicate()
    return got


def _coverage(r: Recorded, rate: int) -> float:
    return 100 * sum(r.counts.values()) / (rate * r.seconds)


def _health_note(recorded: list[Recorded]) -> str:
    """What flametop's own summary said of its instants, for the notes."""
    inst = [r.instants for r in recorded if r.instants]
    if not inst:
        return ""
    return (
        "; flametop's own health line: "
        + Measure(tuple(x[2] for x in inst), "% of instants").text()
        + ", late samples "
        + Measure(tuple(float(x[3]) for x in inst), "", 0).text()
    )


def record_figures(repeats: int) -> list[Line]:
    got = _record_pair(repeats, RATE, RECORD_S)
    ft, ps = got["flametop"], got["py-spy"]
    ours = Measure(tuple(_coverage(r, RATE) for r in ft), "%")
    peer = Measure(tuple(_coverage(r, RATE) for r in ps), "%")
    err = {
        who: [abs(100 * leaf_share(r.counts, HOT) - 75.0) for r in rs] for who, rs in got.items()
    }
    e_ours, e_peer = Measure(tuple(err["flametop"]), "pts"), Measure(tuple(err["py-spy"]), "pts")
    n_samples = [sum(r.counts.values()) for rs in got.values() for r in rs]
    # A share measured from n samples is only known to within its standard error
    # (about 1 point at n = 2000): "no worse than py-spy" is judged within that.
    noise = 100 * (0.75 * 0.25 / max(1, min(n_samples, default=1))) ** 0.5
    health = _health_note(ft)
    return [
        Line(
            "1 coverage",
            f"samples ÷ asked, {RECORD_S} s at {RATE} Hz, one busy thread",
            ours,
            peer,
            "py-spy record",
            ratio(ours, peer),
            "≥ 99.5% and ≥ py-spy",
            ours.median >= 99.5 and ours.median >= peer.median,
            "flametop record (default in-process sampler) vs one py-spy record run, same "
            "target; samples = stacks in the folded output, asked = rate × the duration "
            "each tool says it sampled" + health,
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


def fast_figures(repeats: int) -> list[Line]:
    got = _record_pair(repeats, FAST_RATE, FAST_S)
    ft, ps = got["flametop"], got["py-spy"]
    rate_o = Measure(tuple(sum(r.counts.values()) / r.seconds for r in ft), "Hz", 0)
    rate_p = Measure(tuple(sum(r.counts.values()) / r.seconds for r in ps), "Hz", 0)
    cov_o = Measure(tuple(_coverage(r, FAST_RATE) for r in ft), "%")
    cov_p = Measure(tuple(_coverage(r, FAST_RATE) for r in ps), "%")
    cpu_o = Measure(tuple(100 * r.cpu_s / r.wall_s for r in ft), "% CPU")
    cpu_p = Measure(tuple(100 * r.cpu_s / r.wall_s for r in ps), "% CPU")
    item = f"{FAST_RATE} Hz, {FAST_S} s record, one busy thread"
    late = _health_note(ft)
    return [
        Line(
            "10 1000 Hz",
            f"achieved rate, {item}",
            rate_o,
            rate_p,
            "py-spy record",
            ratio(rate_o, rate_p),
            "",
            None,
            "stacks in the folded output ÷ the duration each tool says it sampled" + late,
        ),
        Line(
            "10 1000 Hz",
            f"coverage, {item}",
            cov_o,
            cov_p,
            "py-spy record",
            ratio(cov_o, cov_p),
            "≥ py-spy record's",
            cov_o.median >= cov_p.median,
            "samples ÷ (rate × duration)",
        ),
        Line(
            "10 1000 Hz",
            f"own CPU of the recorder, {item}",
            cpu_o,
            cpu_p,
            "py-spy record",
            ratio(cpu_o, cpu_p),
            "< 5% of a core",
            cpu_o.median < 5.0,
            "CPU of the whole command (rusage, start-up and writing included) ÷ its wall time",
        ),
    ]


# ---- 2, 3, 8 and 9: top in a pseudo-terminal --------------------------------------
