"""The live App driven through Textual's Pilot with a scripted sampler and a fixed clock:
what a user sees change when they pause, filter, choose a thread, change the window,
sort, zoom, save, and when the target exits or the sampler fails."""

from __future__ import annotations

import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support_app import (
    CRUNCH,
    HOT,
    T0,
    WORKER_RUN,
    FixedClock,
    ScriptedSampler,
    screen_text,
    second,
    sync,
    table_functions,
    wait_for,
)

from samplers.backends.replay import ReplaySampler
from samplers.backends.synthetic import synthetic_profile
from samplers.clock import FakeClock
from samplers.formats import read_profile
from samplers.model import Metadata
from tui.app import FlametopApp
from tui.keys import help_rows
from tui.widgets.header import STATE_EXITED, STATE_LIVE, STATE_PAUSED, FlametopHeader
from tui.widgets.help import HelpScreen
from tui.widgets.thread_chooser import ThreadChooser
from tui.widgets.top_table import TopTable

SIZE = (120, 40)


def make_app(
    sampler: ScriptedSampler, tmp_path: Path, *, save_dir: Path | None = None
) -> FlametopApp:
    return FlametopApp(
        sampler,
        target="pid 4242 python app.py",
        metadata=Metadata(pid=4242, rate=100.0, mode="cpu", cmdline=("python", "app.py")),
        save_dir=save_dir or tmp_path / "snaps",
        clock=FixedClock(T0 + 100),
        snapshot_interval=0.05,
    )


def header(app: FlametopApp) -> str:
    return app.query_one(FlametopHeader).info.state


async def shows_samples(app: FlametopApp, total: int) -> None:
    await wait_for(lambda: app.shown is not None and app.shown.total_samples == total)


@sync
async def test_pause_freezes_the_table_while_samples_keep_arriving(tmp_path: Path) -> None:
    # GIVEN ten seconds where hot_loop dominates, on screen
    sampler = ScriptedSampler([second(i) for i in range(10)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 1000)
        before = table_functions(app)
        assert before[0] == HOT.function
        # WHEN the user pauses and ten seconds dominated by crunch arrive
        await pilot.press("p")
        later = [second(i, hot=0, crunch=500) for i in range(10, 20)]
        for batch in later:
            sampler.feed(batch)
        arrived = sum(b.count for b in later)
        await wait_for(lambda: app.query_one(FlametopHeader).info.samples_since_pause == arrived)
        await pilot.pause()
        # THEN the table is frozen and the header says PAUSED with the samples since
        assert header(app) == STATE_PAUSED
        assert table_functions(app) == before
        assert app.shown is not None and app.shown.total_samples == 1000
        assert f"+{arrived} samples" in screen_text(app)
        # WHEN the user resumes, THEN the screen jumps to live and crunch leads
        await pilot.press("p")
        await wait_for(lambda: app.shown is not None and app.shown.t_end == T0 + 20)
        assert header(app) == STATE_LIVE
        assert table_functions(app)[0] == CRUNCH.function


@sync
async def test_filtering_while_paused_works_on_the_frozen_window(tmp_path: Path) -> None:
    # GIVEN a paused screen and newer samples that are not shown
    sampler = ScriptedSampler([second(i) for i in range(5)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        await pilot.press("p")
        sampler.feed(second(5, parse=900))
        await wait_for(lambda: app.query_one(FlametopHeader).info.samples_since_pause > 0)
        # WHEN the user filters for "pars"
        await pilot.press("slash", *"pars")
        await wait_for(lambda: app.shown is not None and app.shown.view.filter == "pars")
        # THEN only parse is listed, with its counts from the frozen window
        assert table_functions(app) == ["parse"]
        assert app.shown.total_samples == 500
        # WHEN Esc clears the filter, THEN every function is back
        await pilot.press("escape")
        await wait_for(lambda: app.shown is not None and app.shown.view.filter is None)
        assert HOT.function in table_functions(app)
        assert header(app) == STATE_PAUSED


@sync
async def test_choosing_a_thread_shows_only_its_functions(tmp_path: Path) -> None:
    sampler = ScriptedSampler([second(i) for i in range(5)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        # WHEN the user opens the thread chooser and picks worker-1
        await pilot.press("t")
        assert isinstance(app.screen, ThreadChooser)
        names = [name for name, _ in app.shown.threads]
        await pilot.press(*["down"] * (names.index("worker-1") + 1), "enter")
        await wait_for(lambda: app.shown is not None and app.shown.view.thread is not None)
        # THEN the table only lists what worker-1 ran
        assert set(table_functions(app)) == {"run", "crunch", "wait_for_io"}
        assert "thread worker-1" in str(app.query_one(TopTable).border_title)
        # WHEN the user types a pattern instead, THEN it is applied as typed
        await pilot.press("t", "tab", *"main", "enter")
        await wait_for(lambda: app.shown is not None and app.shown.view.thread == "main")
        assert set(table_functions(app)) == {"<module>", "serve", "hot_loop", "parse"}


@sync
async def test_window_cycle_changes_which_seconds_count(tmp_path: Path) -> None:
    # GIVEN a minute of hot_loop, then 5 s where only crunch runs
    batches = [second(i) for i in range(60)]
    batches += [second(i, hot=0, parse=0, crunch=200, sleepy=0) for i in range(60, 65)]
    app = make_app(ScriptedSampler(batches), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.t_end == T0 + 65)
        assert table_functions(app)[0] == HOT.function  # 30 s: hot_loop still leads
        # WHEN the user cycles the window to 5 s (30 s -> 5 min -> everything -> 5 s)
        await pilot.press("w", "w", "w")
        await wait_for(lambda: app.shown is not None and app.shown.view.window_s == 5.0)
        # THEN only the last five seconds count and crunch leads
        assert table_functions(app)[0] == CRUNCH.function
        assert app.shown.total_samples == 1000
        assert "window 5 s" in screen_text(app)


@sync
async def test_sort_keys_reorder_the_table(tmp_path: Path) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(5)]), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        # WHEN the user presses 2 (sort by %Total)
        await pilot.press("2")
        await pilot.pause()
        # THEN callers with the largest total lead, and the header marks the column
        assert table_functions(app)[0] in ("<module>", "serve")
        table = app.query_one(TopTable)
        assert "%Total ▼" in str(
            table.columns[next(k for k in table.columns if k.value == "total")].label
        )
        # WHEN 1, THEN back to own time order
        await pilot.press("1")
        await pilot.pause()
        assert table_functions(app)[0] == HOT.function


@sync
async def test_zooming_into_an_icicle_frame_scopes_the_table(tmp_path: Path) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(5)]), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        # WHEN the user tabs to the icicle, goes to the worker's root frame, presses Enter
        await pilot.press("tab", "down", "right", "enter")
        await wait_for(lambda: app.shown is not None and bool(app.shown.view.zoom))
        # THEN the table lists only that subtree
        assert app.shown.view.zoom[-1].function == WORKER_RUN.function
        assert set(table_functions(app)) == {"run", "crunch", "wait_for_io"}
        # WHEN Backspace, THEN zoomed out again
        await pilot.press("backspace")
        await wait_for(lambda: app.shown is not None and not app.shown.view.zoom)
        assert HOT.function in table_functions(app)


@sync
async def test_line_toggle_and_baseline_add_detail(tmp_path: Path) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(5)]), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        await pilot.press("l")
        await wait_for(lambda: app.shown is not None and app.shown.view.by_line)
        assert "hot_loop (app.py:20)" in table_functions(app, label=True)
        await pilot.press("b")
        await wait_for(lambda: app.shown is not None and app.shown.view.baseline is not None)
        await pilot.pause()
        assert "Δ%Total" in screen_text(app)


@sync
async def test_snapshot_writes_three_files_that_parse(tmp_path: Path) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(5)]), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        # WHEN the user presses s (here while paused)
        await pilot.press("p", "s")
        snaps = tmp_path / "snaps"
        await wait_for(lambda: any(sev == "information" and "saved" in m for sev, m in app.notices))
    # THEN a screen SVG, a flame graph SVG and a capture exist and each parses
    files = sorted(p.name for p in snaps.iterdir())
    assert len(files) == 3, files
    screen = next(snaps.glob("*.screen.svg"))
    flame = next(snaps.glob("*.flame.svg"))
    capture = next(snaps.glob("*.flametop"))
    ET.parse(screen)
    ET.parse(flame)
    assert "hot_loop" in screen.read_text()
    assert "hot_loop" in flame.read_text()
    profile = read_profile(capture)
    assert profile.total == 500
    assert profile.metadata.pid == 4242
    assert (capture.stat().st_mode & 0o777) == 0o600


@sync
async def test_an_unwritable_save_dir_is_a_notice_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app = make_app(ScriptedSampler([second(0)]), tmp_path, save_dir=blocker)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 100)
        await pilot.press("s")
        await wait_for(lambda: any(sev == "error" for sev, _ in app.notices))
        # THEN the app keeps running and answers keys
        await pilot.press("p")
        assert header(app) == STATE_PAUSED


@sync
async def test_target_exit_leaves_everything_browsable(tmp_path: Path) -> None:
    sampler = ScriptedSampler([second(i) for i in range(3)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 300)
        # WHEN the target exits
        sampler.finish()
        await wait_for(lambda: header(app) == STATE_EXITED)
        # THEN the banner shows and the data can still be filtered
        assert "TARGET EXITED" in screen_text(app)
        await pilot.press("slash", *"crunch", "enter")
        await wait_for(lambda: table_functions(app) == ["crunch"])


@sync
async def test_hostile_names_are_shown_literally_and_without_escapes(tmp_path: Path) -> None:
    app = make_app(ScriptedSampler([second(i, hostile=500) for i in range(3)]), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 1800)
        await pilot.press("t")
        await pilot.pause()
        svg = app.export_screenshot()
        await pilot.press("escape")
        svg += app.export_screenshot()
        labels = table_functions(app, label=True)
    assert "evil[bold red]x[/] ([link=x]f.py)" in labels
    assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg
    assert "[bold&#160;red]" in svg or "[bold red]" in svg


@sync
async def test_help_lists_every_key(tmp_path: Path) -> None:
    app = make_app(ScriptedSampler([second(0)]), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for _keys, what in help_rows():
            assert what[:30] in text, what
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@sync
async def test_sigterm_and_sighup_autosave_a_capture_then_exit(tmp_path: Path, signum: int) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(4)]), tmp_path)
    async with app.run_test(size=SIZE):
        await shows_samples(app, 400)
        # WHEN the signal arrives (the handler the loop would call)
        app._on_signal(signum)
    # THEN a capture of everything sampled was written and the exit code says which signal
    assert app.return_code == 128 + signum
    (saved,) = app.autosaved
    assert read_profile(saved).total == 400


@sync
async def test_any_sampler_works_a_replay_plays_to_its_end(tmp_path: Path) -> None:
    # GIVEN a saved profile replayed on a fake clock (what `flametop view` does)
    profile = synthetic_profile(n_stacks=60, seconds=20, threads=2, seed=3)
    own: dict[str, int] = {}
    for s in profile.merged():
        own[s.stack[-1].function] = own.get(s.stack[-1].function, 0) + s.count
    hottest = max(own, key=lambda name: own[name])
    sampler = ReplaySampler(profile, speed=1.0, clock=FakeClock())
    app = FlametopApp(
        sampler,
        target="replay",
        save_dir=tmp_path,
        window_s=None,
        clock=FakeClock(),
        snapshot_interval=0.05,
        finished_label="END OF CAPTURE",
    )
    async with app.run_test(size=SIZE):
        # THEN everything is shown once the replay ends, hottest function first
        await wait_for(lambda: header(app) == "END OF CAPTURE", timeout=10)
        await shows_samples(app, profile.total)
        assert table_functions(app)[0] == hottest


@sync
async def test_clicking_a_header_sorts_and_r_resets(tmp_path: Path) -> None:
    sampler = ScriptedSampler([second(i) for i in range(5)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        # WHEN the user clicks the %Total header (row 1: row 0 is the border title)
        await pilot.click(TopTable, offset=(11, 1))
        await pilot.pause()
        # THEN the table is sorted by %Total
        assert app.query_one(TopTable).sort_by == "total"
        assert table_functions(app)[0] in ("<module>", "serve")
        # WHEN the user presses r, THEN the aggregate starts over from the next batch
        await pilot.press("r")
        await shows_samples(app, 0)
        sampler.feed(second(5))
        await shows_samples(app, 100)


@sync
async def test_cursor_stays_on_top_until_the_user_moves_it_then_follows_the_function(
    tmp_path: Path,
) -> None:
    sampler = ScriptedSampler([second(i) for i in range(5)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 500)
        table = app.query_one(TopTable)
        assert table.selected_frame is not None and table.selected_frame.function == "hot_loop"
        # WHEN crunch overtakes hot_loop before the user touched the table
        sampler.feed(second(5, hot=0, crunch=2000))
        await wait_for(lambda: table_functions(app)[0] == "crunch")
        # THEN the cursor is still on the top row
        assert table.cursor_row == 0
        # WHEN the user moves to parse and the order changes again
        await pilot.press("down", "down")
        chosen = table.selected_frame
        assert chosen is not None
        sampler.feed(second(6, hot=0, crunch=0, parse=5000))
        await wait_for(lambda: table_functions(app)[0] == "parse")
        # THEN the cursor went with the function the user chose
        assert table.selected_frame == chosen
