"""`make bench`: measure flametop against py-spy in one run; print the figures and write
bench/results.md (the README's performance table is generated from it).

    .venv/bin/python bench/run.py [--repeats 2] [--only engine,memory,live,ui]
    .venv/bin/python bench/run.py --only top   # figures 2, 3, 8, 9 only (part of live)

The flametop rows run flametop's default sampler (`auto`: in-process, py-spy's library in
flametop_native, where it is built; the header says whether it is), plus one own-CPU row
for the py-spy CLI fallback (`--sampler py-spy`).

Each figure is the median of --repeats runs with [min–max]; peers are measured in the
same run, interleaved with ours, so machine noise hits both. Figures whose parts are
missing print "not measured: <reason>" instead of failing the run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Budget, Line, not_measured  # noqa: E402

RESULTS = ROOT / "bench" / "results.md"
README = ROOT / "README.md"
# The README's performance table is the results table between these markers, rewritten
# by every full run so the two never disagree.
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PARTS = {"top", "server"}  # sections that are part of another one: run only when asked by --only


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def update_readme(results: str) -> bool:
    """Copy the results (header and table, without notes) between the README markers."""
    try:
        text = README.read_text(encoding="utf-8")
    except OSError:
        return False
    if START not in text or END not in text:
        return False
    body = results.split("\n", 2)[2].split("\nNotes:")[0].strip()
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    write_atomically(README, f"{before}{START}\n{body}\n{END}{after}")
    return True


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}"]
    for dist in ("flametop", "py-spy", "textual"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    try:
        import flametop_native

        parts.append(
            f"flametop_native {version('flametop_native')} (in-process sampler, py-spy library "
            f"{getattr(flametop_native, 'PY_SPY_VERSION', '?')}: the default)"
        )
    except ImportError:
        parts.append("flametop_native NOT built: the flametop rows ran on the py-spy CLI fallback")
    return ", ".join(parts)


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores {model} ({platform.system()}), load average at start {load}"


def _sections(repeats: int, budget: Budget) -> dict[str, Callable[[], list[Line]]]:
    def engine() -> list[Line]:
        from bench.engine import engine as run_engine

        return run_engine(repeats)

    def memory() -> list[Line]:
        from bench.engine import memory as run_memory

        return run_memory(repeats)

    def live() -> list[Line]:
        from bench.live import live as run_live

        return run_live(repeats, budget)

    def ui() -> list[Line]:
        from bench.ui import ui as run_ui

        return run_ui(repeats)

    def top() -> list[Line]:
        # Figures 2, 3, 8 and 9 alone (a part of `live`), for quick before/after checks.
        from bench.top_figures import top_figures

        return top_figures(repeats, budget)

    def server() -> list[Line]:
        # Figure 11 alone (a part of `live`)
        from bench.server_figures import server_figures

        return server_figures(repeats)

    return {
        "live": live,
        "engine": engine,
        "ui": ui,
        "memory": memory,
        "top": top,
        "server": server,
    }


def render(lines: list[Line], header: str) -> str:
    out = [
        "# flametop benchmarks",
        "",
        header,
        "",
        "Each value: median of the repeats [min–max]. Ratio: flametop ÷ peer (medians).",
        "",
        "| figure | measured | flametop | peer | ratio | goal | status |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes: list[str] = []
    for ln in lines:
        if ln.not_measured:
            out.append(f"| {ln.figure} | {ln.item} | not measured | | | {ln.goal} | not measured |")
            notes.append(f"- {ln.figure}, {ln.item}: not measured: {ln.not_measured}")
            continue
        ours = ln.ours.text() if ln.ours else ""
        peer = f"{ln.peer_name}: {ln.peer.text()}" if ln.peer else ""
        rat = f"{ln.ratio:.2f}×" if ln.ratio is not None else ""
        out.append(
            f"| {ln.figure} | {ln.item} | {ours} | {peer} | {rat} | {ln.goal} | {ln.status} |"
        )
        if ln.note:
            shared = sum(
                1 for other in lines if other.figure == ln.figure and other.note == ln.note
            )
            notes.append(
                f"- {ln.figure}: {ln.note}"
                if shared > 1
                else f"- {ln.figure}, {ln.item}: {ln.note}"
            )
    if notes:
        out += ["", "Notes:", "", *dict.fromkeys(notes)]
    return "\n".join(out) + "\n"


def print_line(ln: Line) -> None:
    if ln.not_measured:
        print(f"  {ln.figure:<12} {ln.item}: not measured: {ln.not_measured}", flush=True)
        return
    parts = [f"  {ln.figure:<12} {ln.item}: {ln.ours.text() if ln.ours else ''}"]
    if ln.peer:
        parts.append(f"vs {ln.peer_name} {ln.peer.text()}")
    if ln.ratio is not None:
        parts.append(f"ratio {ln.ratio:.2f}")
    if ln.goal:
        parts.append(f"goal {ln.goal}: {ln.status}")
    print(" · ".join(parts), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: live,engine,ui,memory; or top (2, 3, 8, 9 of live), server (11)",
    )
    parser.add_argument("--budget", type=float, default=720.0, help="seconds for the whole run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    budget = Budget(args.budget)
    started = datetime.now(timezone.utc)
    header = (
        f"Run {started:%Y-%m-%d %H:%M} UTC on {_machine()}; {_versions()}; {args.repeats} repeats."
    )
    print(header, flush=True)
    lines: list[Line] = []
    wanted = {s for s in args.only.split(",") if s}
    for name, section in _sections(args.repeats, budget).items():
        if (wanted and name not in wanted) or (not wanted and name in PARTS):
            continue
        t0 = time.monotonic()
        print(f"[{name}]", flush=True)
        try:
            got = section()
        except Exception as exc:  # a broken section must not hide the others' figures
            traceback.print_exc()
            got = [not_measured(name, "all figures", f"{type(exc).__name__}: {exc}")]
        for ln in got:
            print_line(ln)
        lines += got
        print(f"  ({time.monotonic() - t0:.0f} s)", flush=True)
    lines.sort(key=lambda ln: int(ln.figure.split()[0]) if ln.figure[:1].isdigit() else 99)
    elapsed = time.monotonic() - budget.start
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = render(lines, header + f" Whole run {elapsed:.0f} s; load average at end {load}.")
    write_atomically(args.out, text)
    if not wanted and args.out == RESULTS and update_readme(text):
        print("updated the performance table in README.md")
    print(
        f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} ({elapsed:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
