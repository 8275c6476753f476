"""`flametop report`: the numbers (samplers/session/report.py), the table in a pipe and on a
terminal, the JSON schema, the diff against a baseline, and conversion with -o."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from support_report import HOT, MAIN, REC, WARM, cli, hot_profile, profile_of

from samplers.backends.synthetic import synthetic_profile
from samplers.formats import read_profile, write_profile
from samplers.model import Frame
from samplers.session.report import SCHEMA, build_diff, build_report
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree
from tui.render.report_table import print_report

ANSI = re.compile(r"\x1b\[")


def test_recursion_counts_once_in_total_and_own_is_the_leaf() -> None:
    # GIVEN rec recursing three deep in 6 samples, and hot as a leaf in 4
    profile = profile_of([((MAIN, REC, REC, REC), 6), ((MAIN, HOT), 4)])
    # WHEN the report is built
    rows = {r.function: r for r in build_report(profile, "p").rows}
    # THEN rec's total is 60% (not 180%), <module> is 100% total and 0% own
    assert rows["rec"].total == 6 and rows["rec"].total_percent == pytest.approx(60.0)
    assert rows["rec"].own == 6
    assert rows["<module>"].total_percent == pytest.approx(100.0)
    assert rows["<module>"].own == 0
    assert rows["hot"].own_seconds == pytest.approx(0.04)  # 4 samples at 100 Hz
    # AND rows are ranked by own samples
    assert [r.function for r in build_report(profile, "p").rows][:2] == ["rec", "hot"]


def test_report_agrees_with_the_stack_tree_the_tui_shows() -> None:
    # GIVEN a realistic profile with recursion and several threads
    profile = synthetic_profile(n_stacks=300, seconds=8)
    tree = StackTree()
    for batch in profile.batches:
        tree.add(batch)
    snap = tree.snapshot(View(window_s=None))
    # WHEN the report is built from the same profile
    report = build_report(profile, "p")
    # THEN every function has the same own and total counts as the live table
    ours = {(r.function, r.file): (r.own, r.total) for r in report.rows}
    theirs = {(s.key.function, s.key.file): (s.own, s.total) for s in snap.functions}
    assert ours == theirs
    assert report.profile.samples == snap.total_samples


def test_diff_ranks_by_size_of_change_with_the_right_sign() -> None:
    # GIVEN hot grew from 20% to 70% and warm shrank from 80% to 30%, plus a new function
    new = profile_of([((MAIN, HOT), 70), ((MAIN, WARM), 25), ((MAIN, REC), 5)])
    old = hot_profile(20, 80)
    # WHEN compared
    diff = build_diff(new, old, "new", "old")
    rows = {r.function: r for r in diff.rows}
    # THEN the changes are in points, signed, and the biggest come first
    assert rows["hot"].delta_total_points == pytest.approx(50.0)
    assert rows["warm"].delta_total_points == pytest.approx(-55.0)
    assert rows["rec"].delta_total_points == pytest.approx(5.0)
    assert rows["<module>"].delta_total_points == pytest.approx(0.0)
    assert [r.function for r in diff.rows] == ["warm", "hot", "rec", "<module>"]
    assert rows["hot"].base_total_percent == pytest.approx(20.0)
    assert diff.baseline is not None and diff.baseline.samples == 100


def test_diff_of_profiles_of_different_lengths_compares_shares() -> None:
    # GIVEN the same shape, once 10x longer
    diff = build_diff(hot_profile(300, 700), hot_profile(30, 70))
    # THEN nothing changed
    assert all(abs(r.delta_total_points or 0.0) < 1e-9 for r in diff.rows)


def test_piped_output_is_plain_aligned_text(tmp_path: Path) -> None:
    # GIVEN a pprof file
    path = tmp_path / "p.pb.gz"
    write_profile(hot_profile(75, 25), path)
    # WHEN reported into a pipe
    out = cli("report", str(path))
    # THEN it succeeds, with the columns and no escape sequences or box drawing
    assert out.returncode == 0, out.stderr
    assert not ANSI.search(out.stdout)
    assert not re.search("[│┃─━┏┗]", out.stdout)
    lines = out.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "%Own" in line)
    assert lines[header].split()[:4] == ["%Own", "%Total", "OwnTime", "TotalTime"]
    first = lines[header + 1]
    assert first.split()[:4] == ["75.0", "75.0", "0.75s", "0.75s"]
    assert first.endswith("hot (app.py:10)")
    # AND the function column starts at the same place on every row
    starts = {line.index("(app.py") - len(line.split()[-2]) for line in lines[header + 1 :]}
    assert len(starts) == 1


def test_top_limits_rows_and_says_how_many_are_hidden(tmp_path: Path) -> None:
    path = tmp_path / "s.folded"
    write_profile(synthetic_profile(n_stacks=200, seconds=4), path)
    out = cli("report", str(path), "--top", "3")
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if re.match(r"\s*\d+\.\d", line)]
    assert len(rows) == 3
    assert "more functions (--top 0 shows all)" in out.stdout


def test_hostile_names_print_as_plain_text_on_a_terminal_and_in_a_pipe(tmp_path: Path) -> None:
    # GIVEN function names with escapes, markup and newlines
    names = ["\x1b[2J\x1b]0;pwned\x07evil", "[bold red]markup[/]", "two\nlines", "\x9b31mc1"]
    profile = profile_of([((MAIN, Frame(n, "x.py", 1)), 10) for n in names])
    report = build_report(profile, "p")
    # WHEN printed by Rich to a terminal
    buf = io.StringIO()
    print_report(report, 0, Console(file=buf, force_terminal=True, width=200), "folded")
    text = buf.getvalue()
    # THEN the only escapes are Rich's own colour codes (SGR), markup stays literal
    assert re.sub(r"\x1b\[[0-9;]*m", "", text).count("\x1b") == 0
    assert "\x9b" not in text and "\x07" not in text
    assert "[bold red]markup[/]" in text
    assert "two lines" in text
    # AND through the CLI into a pipe there are no escapes at all
    path = tmp_path / "h.speedscope.json"
    write_profile(profile, path)
    out = cli("report", str(path))
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x9b" not in out.stdout
    assert "[bold red]markup[/]" in out.stdout


def test_json_has_the_documented_schema(tmp_path: Path) -> None:
    # GIVEN a capture with metadata
    path = tmp_path / "s.flametop"
    write_profile(synthetic_profile(n_stacks=100, seconds=3), path)
    # WHEN reported as JSON
    out = cli("report", str(path), "--json", "--top", "5")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    # THEN the documented keys are there, with their types
    assert doc["schema"] == SCHEMA == "flametop.report/2"
    assert doc["file"] == str(path) and doc["format"] == "flametop"
    assert doc["sort"] == "own" and doc["baseline"] is None
    assert set(doc["metadata"]) >= {"flametop_version", "sampler", "rate", "mode", "start_time"}
    assert isinstance(doc["metadata"]["cmdline"], list)
    assert isinstance(doc["metadata"]["extra"], dict)
    totals = doc["totals"]
    assert set(totals) == {"samples", "seconds", "functions", "threads", "rate_hz"}
    assert totals["threads"] == 4 and totals["rate_hz"] == 100
    assert len(doc["rows"]) == 5 and doc["rows_total"] == totals["functions"]
    row = doc["rows"][0]
    assert set(row) == {
        "function", "file", "line", "own_samples", "total_samples",
        "own_percent", "total_percent", "own_seconds", "total_seconds",
    }  # fmt: skip
    assert row["function"] == "crc32_update"
    owns = [r["own_samples"] for r in doc["rows"]]
    assert owns == sorted(owns, reverse=True)


def test_json_diff_rows_carry_both_shares_and_the_signed_change(tmp_path: Path) -> None:
    new, old = tmp_path / "new.folded", tmp_path / "old.pb.gz"
    write_profile(hot_profile(80, 20), new)
    write_profile(hot_profile(30, 70), old)
    out = cli("report", str(new), "--baseline", str(old), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["sort"] == "abs_delta_total"
    assert doc["baseline"]["format"] == "pprof" and doc["baseline"]["totals"]["samples"] == 100
    by_name = {r["function"]: r for r in doc["rows"]}
    assert by_name["hot"]["delta_total_points"] == pytest.approx(50.0)
    assert by_name["hot"]["baseline_total_percent"] == pytest.approx(30.0)
    assert by_name["warm"]["delta_total_points"] == pytest.approx(-50.0)


def test_baseline_table_shows_both_shares_and_signed_points(tmp_path: Path) -> None:
    new, old = tmp_path / "new.folded", tmp_path / "old.folded"
    write_profile(hot_profile(80, 20), new)
    write_profile(hot_profile(30, 70), old)
    out = cli("report", str(new), "--baseline", str(old))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = next(line for line in lines if "%Own" in line)
    assert header.split()[:5] == ["%Own", "%Total", "Base%Total", "Δ%Total", "TotalTime"]
    hot = next(line for line in lines if line.endswith("hot (app.py:10)"))
    warm = next(line for line in lines if line.endswith("warm (app.py:20)"))
    assert hot.split()[:4] == ["80.0", "80.0", "30.0", "+50.0"]
    assert warm.split()[:4] == ["20.0", "20.0", "70.0", "-50.0"]


def test_convert_writes_every_output_in_its_format(tmp_path: Path) -> None:
    # GIVEN a capture
    src = tmp_path / "run.flametop"
    write_profile(synthetic_profile(n_stacks=100, seconds=3), src)
    outs = [tmp_path / n for n in ("run.svg", "run.pb.gz", "run.speedscope.json", "run.txt")]
    # WHEN converted to four formats at once
    out = cli("report", str(src), *[a for o in outs for a in ("-o", str(o))])
    # THEN each file is written, readable (except SVG) with the same total, and said so
    assert out.returncode == 0, out.stderr
    for o in outs:
        assert o.exists() and f"wrote {o}" in out.stderr
    assert outs[0].read_text().lstrip().startswith(("<?xml", "<svg"))
    for o in outs[1:]:
        assert read_profile(o).total == read_profile(src).total
    # AND an existing output is not replaced without --force
    again = cli("report", str(src), "-o", str(outs[1]))
    assert again.returncode == 2 and "--force" in again.stderr
    assert cli("report", str(src), "-o", str(outs[1]), "--force").returncode == 0


def test_convert_with_explicit_format(tmp_path: Path) -> None:
    src = tmp_path / "a.folded"
    write_profile(hot_profile(3, 1), src)
    dst = tmp_path / "noext"
    out = cli("report", str(src), "-o", str(dst), "--format", "pprof")
    assert out.returncode == 0, out.stderr
    assert dst.read_bytes()[:2] == b"\x1f\x8b"
    assert read_profile(dst).total == 4
    bad = cli("report", str(src), "--format", "pprof")
    assert bad.returncode == 2 and "-o" in bad.stderr


def test_baseline_with_svg_output_writes_the_differential_flame_graph(tmp_path: Path) -> None:
    new, old = tmp_path / "new.folded", tmp_path / "old.folded"
    write_profile(hot_profile(80, 20), new)
    write_profile(hot_profile(30, 70), old)
    svg = tmp_path / "diff.svg"
    out = cli("report", str(new), "--baseline", str(old), "-o", str(svg))
    assert out.returncode == 0, out.stderr
    text = svg.read_text()
    assert "Differential" in text
    assert "+50.00 pts" in text and "-50.00 pts" in text
