"""`report` and `view` on files other tools made (py-spy raw/--threads/--subprocesses/
--nolineno, speedscope with nulls, chrometrace; Go's runtime/pprof and `go tool pprof
-proto`): the reader tests (test_formats_foreign.py) check the parsing, these check what
a user sees through the CLI and the screen. The files are in tests/data (README there)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from support_app import sync, table_functions, wait_for
from support_report import cli

from tui.commands.view import build_app

DATA = Path(__file__).parent / "data"

# file: (format found by content, hottest function by own samples)
FILES = {
    "pyspy-raw-threads.txt": ("folded", "hot"),
    "pyspy-raw-subprocesses.txt": ("folded", "hot"),
    "pyspy-raw-nolineno.txt": ("folded", "hot"),
    "pyspy.speedscope.json": ("speedscope", "hot"),
    "pyspy-chrometrace.json": ("chrometrace", "hot"),
    "go-cpu.pb.gz": ("pprof", "main.mix"),
    "go-reencoded.pb.gz": ("pprof", "hot"),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_report_of_a_file_another_tool_made(name: str, tmp_path: Path) -> None:
    fmt, hottest = FILES[name]
    # GIVEN the file under a name that does not tell its format
    path = tmp_path / "profile.dat"
    path.write_bytes((DATA / name).read_bytes())
    # WHEN reported as JSON
    out = cli("report", str(path), "--json", "--top", "0")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    # THEN the format is found by content and the hot function leads
    assert doc["format"] == fmt
    assert doc["rows"][0]["function"] == hottest
    assert doc["totals"]["samples"] > 0
    # AND py-spy's thread and process roots are threads, not functions
    names = [r["function"] for r in doc["rows"]]
    assert not any(n.startswith(("thread (", "process ")) for n in names), names
    shares = [r["total_percent"] for r in doc["rows"]]
    assert max(shares) <= 100.0 + 1e-9


def test_pyspy_file_reads_the_same_in_every_format_it_wrote() -> None:
    # GIVEN py-spy's raw and speedscope output of the same kind of run
    def top2(name: str) -> list[str]:
        out = cli("report", str(DATA / name), "--json", "--top", "2")
        assert out.returncode == 0, out.stderr
        return [r["function"] for r in json.loads(out.stdout)["rows"]]

    # THEN both name the same two hottest functions
    assert top2("pyspy-raw-threads.txt") == top2("pyspy.speedscope.json") == ["hot", "cold"]


def test_sample_type_chooses_a_pprof_value_and_a_wrong_one_lists_the_choices() -> None:
    go = str(DATA / "go-cpu.pb.gz")
    default = json.loads(cli("report", go, "--json").stdout)
    counted = cli("report", go, "--json", "--sample-type", "samples")
    assert counted.returncode == 0, counted.stderr
    doc = json.loads(counted.stdout)
    # Go's CPU profile: cpu/nanoseconds is preferred, samples/count on request; same shape
    assert default["metadata"]["extra"]["sample_type"] == "cpu/nanoseconds"
    assert doc["metadata"]["extra"]["sample_type"] == "samples/count"
    assert doc["rows"][0]["function"] == default["rows"][0]["function"] == "main.mix"
    bad = cli("report", go, "--sample-type", "alloc_space")
    assert bad.returncode == 2
    assert "samples/count" in bad.stderr and "cpu/nanoseconds" in bad.stderr
    assert bad.stderr.count("\n") == 1


@pytest.mark.parametrize("name", ["go-cpu.pb.gz", "pyspy.speedscope.json"])
@sync
async def test_view_opens_a_foreign_file_as_a_static_profile(name: str, tmp_path: Path) -> None:
    args = argparse.Namespace(file=str(DATA / name), baseline=None, save_dir=tmp_path)
    app = build_app(args)
    async with app.run_test(size=(120, 36)):
        await wait_for(lambda: app.shown is not None and app.shown.total_samples > 0)
        await wait_for(lambda: bool(table_functions(app)))
        assert table_functions(app)[0] == FILES[name][1]
        assert app.shown is not None and app.shown.view.window_s is None


def _austin_us(predicate: object) -> int:
    """µs Austin measured on the lines of tests/data/austin-wall.txt whose frames pass."""
    total = 0
    for line in (DATA / "austin-wall.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            stack, _, us = line.rpartition(" ")
            if callable(predicate) and predicate(stack.split(";")[2:]):
                total += int(us)
    return total


def test_report_of_austin_collapsed_output() -> None:
    # GIVEN Austin's collapsed output (wall mode, 10 ms interval; README in tests/data)
    # WHEN reported through the CLI
    out = cli("report", str(DATA / "austin-wall.txt"), "--json", "--top", "0")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    rows = {r["function"]: r for r in doc["rows"]}
    # THEN Austin's own roots are threads, not functions: P<pid> and T<iid>:<tid> are gone,
    # the two threads are counted, and its mark for an unreadable frame reads as such
    assert not [n for n in rows if re.fullmatch(r"P\d+|T[\w.-]*:\d+|:INVALID:", n)], list(rows)
    assert doc["totals"]["threads"] == 2
    assert "<invalid frame>" in rows
    # AND the time Austin measured (µs per line) is the time reported, the busy function on top
    assert doc["metadata"]["source_format"] == "austin" and doc["metadata"]["mode"] == "wall"
    assert doc["rows"][0]["function"] == "hot"
    measured = _austin_us(lambda frames: bool(frames)) / 1e6
    assert abs(doc["totals"]["seconds"] - measured) < 0.01  # one interval, rounding
    hot = _austin_us(lambda frames: bool(frames) and ":hot:" in frames[-1]) / 1e6
    assert abs(rows["hot"]["own_seconds"] - hot) < 0.01


def test_austin_time_is_summed_per_stack_before_it_becomes_counts(tmp_path: Path) -> None:
    # GIVEN Austin lines of 4 ms each at a 10 ms interval (a sample per line, as Austin writes)
    lines = ["# interval: 10000", "# mode: cpu", ""]
    lines += ["P1;T0:1;app.py:main:3;app.py:work:9 4000"] * 100
    lines += ["P1;T0:1;app.py:main:3;app.py:idle:5 10000"] * 10
    path = tmp_path / "austin.txt"
    path.write_text("\n".join(lines) + "\n")
    # WHEN reported
    doc = json.loads(cli("report", str(path), "--json").stdout)
    # THEN 100 × 4 ms is 0.4 s (not 100 samples of 10 ms), and shares follow the time
    rows = {r["function"]: r for r in doc["rows"]}
    assert rows["work"]["own_seconds"] == pytest.approx(0.4)
    assert rows["idle"]["own_seconds"] == pytest.approx(0.1)
    assert rows["work"]["own_percent"] == pytest.approx(80.0)
