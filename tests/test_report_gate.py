"""`flametop report NEW --baseline OLD --fail-over POINTS [--metric total|own]`: the CI
gate exits 3 naming each function whose share grew too much, 0 otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samplers.formats import write_profile
from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch
from tui.cli import main

MAIN = Frame("main", "app.py", 1)
PARSE = Frame("parse", "app.py", 10)
ENCODE = Frame("encode", "app.py", 20)
HELPER = Frame("helper", "lib.py", 5)


def _profile(path: Path, parse: int, encode: int, parse_helper: int = 0) -> Path:
    """main -> parse (own `parse`), main -> encode, main -> parse -> helper."""
    samples = [
        Sample("", (MAIN, PARSE), parse),
        Sample("", (MAIN, ENCODE), encode),
        Sample("", (MAIN, PARSE, HELPER), parse_helper),
    ]
    batch = SampleBatch(0.0, 1.0, tuple(s for s in samples if s.count))
    return write_profile(Profile(Metadata(rate=100.0, mode="cpu"), (batch,)), path)


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_function_that_grew_past_the_threshold_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a baseline where parse is 30% and a new run where it is 45%
    old = _profile(tmp_path / "old.pb.gz", parse=30, encode=70)
    new = _profile(tmp_path / "new.pb.gz", parse=45, encode=55)
    # WHEN gated at 10 points
    code, _out, err = _report(capsys, str(new), "--baseline", str(old), "--fail-over", "10")
    # THEN exit 3, naming the function and its growth; encode shrank and is not named
    assert code == 3
    assert "1 function(s) grew by more than 10 points of total share" in err
    assert "parse (app.py:10): total share 30.0% -> 45.0% (+15.0 points)" in err
    assert "encode" not in err


def test_growth_within_the_threshold_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _profile(tmp_path / "old.pb.gz", parse=30, encode=70)
    new = _profile(tmp_path / "new.pb.gz", parse=45, encode=55)
    code, _out, err = _report(capsys, str(new), "--baseline", str(old), "--fail-over", "15")
    # exactly 15 points is not *more* than 15
    assert code == 0
    assert "no function grew by more than 15 points" in err
    assert "the largest growth: parse" in err


def test_own_and_total_shares_gate_differently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN parse's own share unchanged (30%) but its callee helper new (0 -> 20%)
    old = _profile(tmp_path / "old.pb.gz", parse=30, encode=70)
    new = _profile(tmp_path / "new.pb.gz", parse=30, encode=50, parse_helper=20)
    # WHEN gated on total: parse (30 -> 50) and helper (0 -> 20) both grew by 20
    code, _o, err = _report(capsys, str(new), "--baseline", str(old), "--fail-over", "5")
    assert code == 3
    assert "parse (app.py:10): total share 30.0% -> 50.0%" in err
    assert "helper (lib.py:5): total share 0.0% -> 20.0%" in err
    # WHEN gated on own: only helper grew; parse's own time did not
    code, _o, err = _report(
        capsys, str(new), "--baseline", str(old), "--fail-over", "5", "--metric", "own"
    )
    assert code == 3
    assert "helper (lib.py:5): own share 0.0% -> 20.0%" in err
    assert "parse" not in err


def test_the_gate_is_in_the_json_and_the_exit_code_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _profile(tmp_path / "old.pb.gz", parse=30, encode=70)
    new = _profile(tmp_path / "new.pb.gz", parse=45, encode=55)
    code, out, _err = _report(
        capsys, str(new), "--baseline", str(old), "--fail-over", "10", "--json"
    )
    assert code == 3
    doc = json.loads(out)
    assert doc["schema"] == "flametop.report/2"
    assert doc["gate"]["passed"] is False
    assert doc["gate"]["metric"] == "total"
    assert [(g["function"], g["points"]) for g in doc["gate"]["grown"]] == [("parse", 15.0)]


def test_fail_over_without_a_baseline_is_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _profile(tmp_path / "new.pb.gz", parse=45, encode=55)
    code, _out, err = _report(capsys, str(new), "--fail-over", "10")
    assert code == 2 and "--baseline" in err


def test_a_negative_threshold_is_refused_by_the_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _profile(tmp_path / "new.pb.gz", parse=45, encode=55)
    with pytest.raises(SystemExit) as exited:
        main(["report", str(new), "--baseline", str(new), "--fail-over", "-1"])
    assert exited.value.code == 2
