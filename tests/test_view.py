"""`flametop view`: a capture replays through the live App with a timeline (step, play,
slider), other formats open as a static profile, and --baseline shows Δ%Total."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from support_app import (
    HOT,
    MAIN,
    PARSE,
    SERVE,
    T0,
    screen_text,
    second,
    steady_readings,
    sync,
    table_functions,
    wait_for,
)
from support_report import cli

from samplers.formats import write_profile
from samplers.model import Metadata, Profile, Sample, SampleBatch
from tui.commands.view import build_app
from tui.render.timeline import Timeline, clock
from tui.view_app import FILE_BASELINE, ViewApp
from tui.widgets.header import FlametopHeader
from tui.widgets.time_slider import TimeSlider
from tui.widgets.top_table import TopTable

SIZE = (120, 40)


def switching_capture(path: Path, seconds: int = 30) -> Path:
    """hot_loop only in the first half, parse only in the second; readings every second."""
    batches = tuple(
        second(i, hot=80 if i < seconds // 2 else 0, parse=0 if i < seconds // 2 else 80)
        for i in range(seconds)
    )
    meta = Metadata(sampler="py-spy 0.4.3", rate=100.0, mode="cpu", pid=42)
    write_profile(Profile(meta, batches, tuple(steady_readings(seconds))), path)
    return path


def open_app(tmp_path: Path, file: Path, baseline: Path | None = None) -> ViewApp:
    args = argparse.Namespace(
        file=str(file), baseline=str(baseline) if baseline else None, save_dir=tmp_path / "s"
    )
    return build_app(args)


async def loaded(app: ViewApp, total: int) -> None:
    await wait_for(
        lambda: (
            app.shown is not None
            and app.shown.total_samples == total
            and app.timeline.last_t > app.timeline.first_t
        )
    )


def badge(app: ViewApp) -> str:
    return app.query_one(FlametopHeader).info.state


def test_timeline_steps_clamp_and_play_to_the_end() -> None:
    tl = Timeline(first_t=100.0, last_t=130.0)
    # GIVEN the end; WHEN stepping back THEN the position is explicit and clamped
    assert tl.position is None and tl.at == 130.0
    assert tl.step(-5).position == 125.0
    assert tl.step(-100).position == 101.0  # never before one second in
    assert tl.step(-5).step(5).position is None  # back at the end: follows the end
    # WHEN playing from the end THEN it restarts from the start and stops at the end
    playing = tl.toggle_play()
    assert playing.playing and playing.position == 101.0
    assert playing.tick(0.5).position == 101.5
    assert playing.faster(1).tick(1.0).position == 103.0
    done = playing.tick(60.0)
    assert done.position is None and not done.playing
    assert tl.seek_fraction(0.5).position == 115.0
    assert playing.label() == "▶ 0:01.0 / 0:30.0 ×1"
    assert clock(3725) == "1:02:05" and clock(61.25) == "1:01.2"


@sync
async def test_capture_replays_with_rails_from_its_readings(tmp_path: Path) -> None:
    # GIVEN a 30 s capture with system readings
    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=SIZE) as pilot:
        # WHEN it opens
        await loaded(app, 30 * 100)
        await pilot.pause(0.1)
        snap = app.shown
        assert snap is not None
        # THEN everything is shown, at the end of the timeline, with the capture's readings
        assert snap.view.window_s is None and snap.view.end_t is None
        assert badge(app) == "■ 0:30.0 / 0:30.0"
        assert len(snap.readings) == 30
        assert snap.readings[0].rss_bytes == steady_readings(1)[0].rss_bytes
        text = screen_text(app)
        assert "run.flametop" in text and "2023-11-14 22:13:50 UTC" in text
        assert "218 MB" in text  # the last RSS reading, on the rail
        assert set(table_functions(app)[:3]) == {"hot_loop", "parse", "crunch"}


@sync
async def test_stepping_back_in_time_shows_that_window(tmp_path: Path) -> None:
    # GIVEN a capture whose hot function changes half way
    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, 3000)
        # WHEN the window is 5 s and its end is stepped back 20 s (two `{`)
        await pilot.press("w")
        assert app.view.window_s == 5.0
        await pilot.press("left_curly_bracket", "left_curly_bracket")
        await wait_for(lambda: app.shown is not None and app.shown.view.end_t == T0 + 10)
        # THEN the table holds the first half's hot function only
        functions = table_functions(app)
        assert "hot_loop" in functions and "parse" not in functions
        assert badge(app) == "|| 0:10.0 / 0:30.0"
        # AND stepping forward with `]` / shift+right moves one second each
        await pilot.press("right_square_bracket", "shift+right")
        await wait_for(lambda: app.shown is not None and app.shown.view.end_t == T0 + 12)
        # AND `>` goes back to the end, where the second half's function shows
        await pilot.press("greater_than_sign")
        await wait_for(lambda: app.shown is not None and app.shown.view.end_t is None)
        assert table_functions(app)[0] == "parse" and "hot_loop" not in table_functions(app)


@sync
async def test_play_moves_through_time_and_pause_stops(tmp_path: Path) -> None:
    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, 3000)
        # WHEN played (from the end it starts again at the beginning) at ×10
        await pilot.press("plus", "plus", "plus")
        assert app.timeline.speed == 10.0
        await pilot.press("space")
        assert app.timeline.playing
        start = app.timeline.at
        await wait_for(lambda: app.timeline.at >= start + 5, timeout=5)
        assert badge(app).startswith("▶") and badge(app).endswith("×10")
        # THEN pause holds the position
        await pilot.press("space")
        held = app.timeline.at
        await pilot.pause(0.6)
        assert app.timeline.at == held and not app.timeline.playing
        assert app.shown is not None and app.shown.view.end_t == held


@sync
async def test_slider_steps_with_arrows_and_jumps_on_click(tmp_path: Path) -> None:
    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, 3000)
        slider = app.query_one(TimeSlider)
        slider.focus()
        await pilot.press("left", "left", "left")
        await wait_for(lambda: app.view.end_t == T0 + 27)
        await pilot.press("home")
        await wait_for(lambda: app.view.end_t == T0 + 1)
        # WHEN the middle of the bar is clicked THEN the window ends near the middle
        bar_mid = slider._bar_start + slider._bar_width // 2 + 1  # + the left padding
        await pilot.click(TimeSlider, offset=(bar_mid, 0))
        await wait_for(lambda: app.view.end_t is not None and abs(app.view.end_t - T0 - 15) < 1)


@sync
async def test_foreign_format_opens_as_a_static_profile(tmp_path: Path) -> None:
    # GIVEN a speedscope file (no timeline)
    path = tmp_path / "p.speedscope.json"
    samples = (Sample("", (MAIN, SERVE, HOT), 30), Sample("", (MAIN, SERVE, PARSE), 10))
    write_profile(Profile(Metadata(rate=100.0), (SampleBatch(0.0, 0.4, samples),)), path)
    app = open_app(tmp_path, path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 40)
        # THEN it is one static batch shown whole
        assert badge(app) == "STATIC"
        assert table_functions(app)[:2] == ["hot_loop", "parse"]
        assert "static profile" in screen_text(app)
        # AND time keys say there is no timeline instead of doing something odd
        await pilot.press("space", "left_square_bracket", "w")
        await pilot.pause(0.1)
        assert app.view.end_t is None and app.view.window_s is None


@sync
async def test_baseline_file_gives_delta_column_and_icicle_colours(tmp_path: Path) -> None:
    # GIVEN a capture, and a pprof baseline where parse was hot and hot_loop cool
    new = switching_capture(tmp_path / "new.flametop")
    old = tmp_path / "old.pb.gz"
    base = tuple(second(i, hot=10, parse=70) for i in range(5))
    write_profile(Profile(Metadata(rate=100.0), base), old)
    app = open_app(tmp_path, new, old)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, 3000)
        snap = app.shown
        assert snap is not None and snap.view.baseline == FILE_BASELINE
        deltas = {s.key.function: s.delta_total for s in snap.functions}
        # new: hot 40%, parse 40%, crunch 15% of 3000; old: hot 10%, parse 70%, crunch 15%
        assert deltas["hot_loop"] == pytest.approx(30.0)
        assert deltas["parse"] == pytest.approx(-30.0)
        assert deltas["crunch"] == pytest.approx(0.0)
        assert snap.root.children[0].delta is not None
        # THEN the table shows the signed change and the icicle its legend
        table = app.query_one(TopTable)
        cells = {
            str(table.get_cell(r.key, "function")).split(" (")[0]: str(
                table.get_cell(r.key, "delta")
            )
            for r in table.ordered_rows
        }
        assert cells["hot_loop"] == "+30.0" and cells["parse"] == "-30.0"
        text = screen_text(app)
        assert "Δ vs baseline" in text and "new.flametop vs old.pb.gz" in text
        # AND `b` clears the file baseline
        await pilot.press("b")
        await wait_for(lambda: app.shown is not None and app.shown.view.baseline is None)
        assert all(s.delta_total is None for s in app.shown.functions)


def test_view_of_a_bad_file_is_one_line_before_any_screen(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pb.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00\x00")
    out = cli("view", str(bad), timeout=30)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and str(bad) in out.stderr
    assert "Traceback" not in out.stderr and "\x1b[" not in out.stdout
    good = tmp_path / "good.folded"
    good.write_text("main;work 3\n")
    out = cli("view", str(good), "--baseline", str(tmp_path / "missing.folded"), timeout=30)
    assert out.returncode == 2 and "missing.folded" in out.stderr


@sync
async def test_help_lists_the_view_keys(tmp_path: Path) -> None:
    from tui.widgets.help import HelpScreen

    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, 3000)
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for words in ("play / pause the capture", "step the end of the window", "< / >"):
            assert words in text


@sync
async def test_narrow_header_keeps_the_file_name_and_a_static_file_claims_no_coverage(
    tmp_path: Path,
) -> None:
    # GIVEN a capture on an 80-column terminal
    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=(80, 24)):
        await loaded(app, 3000)
        # THEN the badge holds the position only (the slider shows the span) and the
        # file name is not cut
        assert badge(app) == "■ 0:30.0"
        assert "run.flametop" in str(app.query_one(FlametopHeader).text)
    # GIVEN a static file: one batch has no achieved rate or coverage to speak of
    path = tmp_path / "p.speedscope.json"
    samples = (Sample("", (MAIN, SERVE, HOT), 30),)
    write_profile(Profile(Metadata(rate=100.0), (SampleBatch(0.0, 0.1, samples),)), path)
    app = open_app(tmp_path, path)
    async with app.run_test(size=SIZE):
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 30)
        header = str(app.query_one(FlametopHeader).text)
        assert "coverage" not in header and "Hz" not in header


@sync
async def test_snapshot_in_view_saves_the_captures_readings(tmp_path: Path) -> None:
    from samplers.formats import read_profile

    # GIVEN a 30 s capture with a system reading every second, opened in view
    app = open_app(tmp_path, switching_capture(tmp_path / "run.flametop"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, 3000)
        # WHEN `s` saves a snapshot
        await pilot.press("s")
        saved = tmp_path / "s"
        await wait_for(lambda: any(saved.glob("*.flametop")), timeout=10)
    # THEN the saved capture holds the batches and the readings the rails were drawn from
    again = read_profile(next(saved.glob("*.flametop")))
    assert again.total == 3000
    assert [r.t for r in again.readings] == [r.t for r in steady_readings(30)]
