"""Screen snapshots of `flametop view` (pytest-textual-snapshot): a replayed capture with
its timeline and rails at 80×24 and 120×40, and a static speedscope file against a
baseline (Δ column, icicle legend) in colour and with NO_COLOR. The files are made at
test time from samplers/backends/synthetic.py (fixed seed, fixed timestamps) plus fixed readings.
Update with `--snapshot-update` after looking at the new SVGs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from support_app import steady_readings, wait_for

from samplers.backends.synthetic import synthetic_profile
from samplers.formats import write_profile
from samplers.model import Profile
from tui.commands.view import build_app
from tui.view_app import ViewApp

SECONDS = 30


def capture(directory: Path) -> Path:
    """30 s of a 2-thread synthetic workload (render_cell doubles half way), with readings."""
    profile = synthetic_profile(n_stacks=60, seconds=SECONDS, threads=2, seed=7)
    path = directory / "run.flametop"
    write_profile(Profile(profile.metadata, profile.batches, tuple(steady_readings(SECONDS))), path)
    return path


def static_with_baseline(directory: Path) -> tuple[Path, Path]:
    """The whole run as speedscope, and its first half (render_cell cooler) as baseline."""
    profile = synthetic_profile(n_stacks=60, seconds=SECONDS, threads=2, seed=7)
    new = write_profile(profile, directory / "new.speedscope.json")
    first_half = Profile(profile.metadata, profile.batches[: SECONDS // 2])
    old = write_profile(first_half, directory / "old.folded")
    return new, old


def view_app(directory: Path, file: Path, baseline: Path | None = None) -> ViewApp:
    args = argparse.Namespace(
        file=str(file), baseline=str(baseline) if baseline else None, save_dir=directory / "s"
    )
    return build_app(args)


async def loaded(pilot: Any) -> None:
    app = pilot.app
    await wait_for(lambda: app.shown is not None and app.shown.total_samples == 6000)
    await wait_for(lambda: app._finished)  # the replay has handed over every batch
    await pilot.pause()
    app.clear_notifications()  # the "loaded" notice would cover the icicle
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_view_of_a_capture(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = view_app(tmp_path, capture(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=loaded)


def test_view_of_a_capture_stepped_back(snap_compare: Any, tmp_path: Path) -> None:
    app = view_app(tmp_path, capture(tmp_path))

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("w", "left_curly_bracket")  # a 5 s window ending 10 s earlier
        await wait_for(lambda: app.shown is not None and app.shown.view == app.view)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_view_of_a_static_file_with_a_baseline(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = view_app(tmp_path, *static_with_baseline(tmp_path))
    assert snap_compare(app, terminal_size=size, run_before=loaded)


def test_view_of_a_static_file_with_a_baseline_no_color(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = view_app(tmp_path, *static_with_baseline(tmp_path))
    assert snap_compare(app, terminal_size=(120, 40), run_before=loaded)
