"""The whole path with real tools: `flametop record` (real py-spy) twice on a target whose
hot function is chosen by an argument, then `flametop report --baseline` shows the
function that changed on top, with the right sign; and `view` opens the captures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support_consumers import find_pyspy
from support_report import REPO, TARGETS, cli

pytestmark = [pytest.mark.pyspy, pytest.mark.slow]


def _record(out: Path, hot: str) -> subprocess.Popen[str]:
    target = [sys.executable, str(TARGETS / "hot_switch.py"), hot, "8"]
    return subprocess.Popen(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "tui.cli", "record", "-d", "2", "-o", str(out), "--", *target],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if find_pyspy() is None:
        pytest.skip("py-spy not found (it is a dependency: `make venv`)")
    tmp = tmp_path_factory.mktemp("runs")
    old, new = tmp / "alpha.flametop", tmp / "beta.flametop"
    runs = [_record(old, "alpha"), _record(new, "beta")]  # side by side: half the wait
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    if any(run.returncode != 0 for run in runs):
        text = "\n".join(outputs)
        if "ermission" in text or "not permitted" in text:
            pytest.skip(f"py-spy may not attach here: {text.strip()[:200]}")
        raise AssertionError(text)
    return old, new


def test_diff_of_two_real_runs_shows_the_changed_function_on_top(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = two_runs
    # WHEN the beta-heavy run is compared with the alpha-heavy one
    out = cli("report", str(new), "--baseline", str(old), "--json", "--top", "5")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    rows = {r["function"]: r for r in doc["rows"]}
    # THEN the two functions that swapped lead the list, beta grown and alpha shrunk
    assert {doc["rows"][0]["function"], doc["rows"][1]["function"]} == {"alpha", "beta"}
    assert rows["beta"]["delta_total_points"] > 20
    assert rows["alpha"]["delta_total_points"] < -20
    assert rows["beta"]["baseline_total_percent"] < rows["beta"]["total_percent"]
    assert doc["metadata"]["sampler"].startswith("py-spy")
    assert doc["metadata"]["cmdline"][-2:] == ["beta", "8"]
    # AND the text table says the same with signs
    text = cli("report", str(new), "--baseline", str(old), "--top", "2")
    assert text.returncode == 0, text.stderr
    lines = [line for line in text.stdout.splitlines() if "hot_switch.py" in line]
    beta = next(line for line in lines if " beta (" in line)
    alpha = next(line for line in lines if " alpha (" in line)
    assert beta.split()[3].startswith("+") and alpha.split()[3].startswith("-")
    # AND the differential flame graph is written and marks beta as grown
    svg = tmp_path / "diff.svg"
    made = cli("report", str(new), "--baseline", str(old), "-o", str(svg))
    assert made.returncode == 0, made.stderr
    body = svg.read_text()
    assert "▲ beta" in body and "▼ alpha" in body


def test_real_capture_converts_and_the_conversion_reports_the_same(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    _, new = two_runs
    pprof, folded = tmp_path / "beta.pb.gz", tmp_path / "beta.folded"
    out = cli("report", str(new), "-o", str(pprof), "-o", str(folded))
    assert out.returncode == 0, out.stderr

    def shares(path: Path) -> dict[str, float]:
        got = cli("report", str(path), "--json", "--top", "0")
        assert got.returncode == 0, got.stderr
        return {r["function"]: r["total_percent"] for r in json.loads(got.stdout)["rows"]}

    original = shares(new)
    assert shares(pprof) == original
    assert shares(folded) == original
