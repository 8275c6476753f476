"""Deep stacks through a Pilot: the fold of shared frames and the scrolling icicle, in the
widget alone and on the live screen at 80×24, as a user at a server's stack meets them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from support_app import ScriptedSampler, screen_text, sync, table_functions, wait_for
from support_icicle import (
    FIND_EMAILS,
    QUERY_ITEMS,
    SHARED,
    SHARED_NAMES,
    IcicleApp,
    cursor_line,
    deep_server_tree,
    drive,
    leaf,
    lines,
    segment_style_of,
    server_app,
    server_second,
    snapshot,
)
from textual import events
from textual.pilot import Pilot

from samplers.model import Frame
from samplers.tree.snapshot import CallNode
from tui.render.palette import GREW_STRONG, SHRANK_STRONG
from tui.widgets.icicle import Icicle
from tui.widgets.top_table import TopTable

SMALL = (80, 10)  # 9 icicle rows and the status line


def icicle_text(app: Any) -> str:
    text = screen_text(app)
    return text[text.index("icicle") :]


# --- the widget -------------------------------------------------------------------------


def test_enter_or_z_on_the_fold_row_unfolds_and_folds_it() -> None:
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # GIVEN the deep server stack: folded, both leaves on screen
        assert lines(icicle)[1].startswith("▸ 29 shared frames: <module> → … 27 … → handle_request")
        assert "find_emails" in lines(icicle)[3] and "query_items" in lines(icicle)[3]
        # WHEN down onto the fold row THEN the status line says what it holds
        await pilot.press("down")
        assert cursor_line(icicle)[0] == 1
        assert lines(icicle)[-1].startswith("29 shared frames · 100 samples · 100.0% of total")
        assert lines(icicle)[-1].rstrip().endswith("z: unfold")
        # WHEN enter THEN it opens: its frames follow it, the cursor stays on it
        await pilot.press("enter")
        shown = lines(icicle)
        assert shown[1].startswith("▾ 29 shared frames") and shown[2].startswith("<module>")
        assert cursor_line(icicle)[0] == 1
        # WHEN z THEN it closes again; no zoom was asked for either time
        await pilot.press("z")
        assert lines(icicle)[1].startswith("▸ 29 shared frames")
        assert not [m for m in app.messages if isinstance(m, Icicle.ZoomIn)]

    drive(app, steps, SMALL)


def test_right_enters_the_fold_and_up_leaves_it() -> None:
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # WHEN right on the closed fold row THEN it opens, the cursor on its first frame
        await pilot.press("down", "right")
        assert icicle.cursor_path == SHARED[:1]
        assert cursor_line(icicle) == (2, cursor_line(icicle)[1])
        assert "<module>" in cursor_line(icicle)[1]
        # WHEN up THEN back on the fold row; z closes it with the cursor still on it
        await pilot.press("up", "z")
        assert cursor_line(icicle)[0] == 1 and lines(icicle)[1].startswith("▸")
        selected = [m for m in app.messages if isinstance(m, Icicle.FrameSelected)]
        # AND the fold row selects no one function (the table keeps its row)
        assert selected[-1].frame is None

    drive(app, steps, SMALL)


def test_down_past_the_last_row_scrolls_and_the_cursor_stays_on_screen() -> None:
    # GIVEN the fold open: 33 rows in a 9-row icicle
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.press("z")
        assert lines(icicle)[0].startswith("all") and "rows 1–9 of 33" in lines(icicle)[-1]
        # WHEN down 8 times: the cursor reaches the last visible row, nothing scrolls
        await pilot.press(*["down"] * 8)
        assert cursor_line(icicle)[0] == 8 and lines(icicle)[0].startswith("all")
        # WHEN down once more THEN the rows move up one and the cursor stays at the bottom
        await pilot.press("down")
        assert cursor_line(icicle)[0] == 8 and lines(icicle)[0].startswith("▾ 29 shared")
        assert "middleware_07" in cursor_line(icicle)[1]
        assert "rows 2–10 of 33" in lines(icicle)[-1]
        # WHEN end THEN the hottest leaf, on screen at the bottom row
        await pilot.press("end")
        y, text = cursor_line(icicle)
        assert "find_emails" in text and y == 8 and "rows 25–33 of 33" in lines(icicle)[-1]
        # WHEN page up THEN a screenful up the callers, still on screen
        await pilot.press("pageup")
        y, text = cursor_line(icicle)
        assert text.startswith("middleware_22") and y == 0
        # WHEN home THEN back to the root at the top
        await pilot.press("home")
        assert cursor_line(icicle)[0] == 0 and lines(icicle)[0].startswith("all")

    drive(app, steps, SMALL)


def test_the_cursor_keeps_its_frame_and_screen_row_across_refreshes() -> None:
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # GIVEN the fold open and the cursor scrolled down to middleware_19, mid-screen
        await pilot.press("z", *["down"] * 24, "up", "up", "up")
        y, text = cursor_line(icicle)
        assert text.startswith("middleware_19") and 0 < y < 8
        top = lines(icicle)[0]
        # WHEN ten refreshes arrive with changing counts
        for version in range(2, 12):
            tree = deep_server_tree(find=60 + version, query=40 - version)
            icicle.show(snapshot(tree, version=version))
            await pilot.pause()
        # THEN the same frame is selected, on the same screen row, the same rows shown
        assert cursor_line(icicle) == (y, text) and lines(icicle)[0] == top
        # WHEN a refresh has samples part at main: nothing left to fold, the fold row goes
        # and every row below moves up one
        icicle.show(snapshot(server_tree_with_own_time(1, 10), version=20))
        await pilot.pause()
        # THEN the rows scroll with the cursor: middleware_19 still on its screen row
        assert not any(line.startswith("▾") for line in lines(icicle))
        assert cursor_line(icicle)[0] == y and cursor_line(icicle)[1].startswith("middleware_19")

    drive(app, steps, SMALL)


def test_when_the_fold_shrinks_the_cursor_stays_selected_and_on_screen() -> None:
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # GIVEN the fold closed and the cursor on query_items, on row 3
        await pilot.press("down", "down", "down", "right")
        assert cursor_line(icicle)[0] == 3 and "query_items" in cursor_line(icicle)[1]
        # WHEN a refresh has 10% of the samples stop in middleware_10: the chain ends there
        # and the 19 frames below it are rows again, pushing query_items down 19 rows
        icicle.show(snapshot(server_tree_with_own_time(10, 10), version=2))
        await pilot.pause()
        # THEN the icicle scrolled with it, as far as there are rows: query_items is still
        # selected, on the bottom row, and the frames above it fill the screen
        assert lines(icicle)[0].startswith("middleware_22")
        y, text = cursor_line(icicle)
        assert y == 8 and "query_items" in text
        # WHEN the chain comes back THEN so does the layout, cursor still on row 3
        icicle.show(snapshot(deep_server_tree(), version=3))
        await pilot.pause()
        assert lines(icicle)[0].startswith("all") and cursor_line(icicle)[0] == 3

    drive(app, steps, SMALL)


def server_tree_with_own_time(index: int, own: int) -> CallNode:
    """The deep server with `own` of its 100 samples stopping in SHARED[index]."""
    find, query = 60, 40 - own
    tree = CallNode(
        SHARED[-1], find + query, 0, (leaf(FIND_EMAILS, find), leaf(QUERY_ITEMS, query))
    )
    for i in range(len(SHARED) - 2, -1, -1):
        extra = own if i == index else 0
        tree = CallNode(SHARED[i], tree.total + extra, extra, (tree,))
    return CallNode(None, tree.total, 0, (tree,))


def test_clicks_on_the_fold_row_select_it_then_unfold_it() -> None:
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.click(Icicle, offset=(5, 1))
        await pilot.pause()
        assert cursor_line(icicle)[0] == 1 and lines(icicle)[1].startswith("▸")
        await pilot.click(Icicle, offset=(5, 1))
        await pilot.pause()
        assert lines(icicle)[1].startswith("▾")
        # AND the mouse wheel scrolls the rows without moving the cursor
        icicle.post_message(events.MouseScrollDown(icicle, 5, 3, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert lines(icicle)[0].startswith("▾") and cursor_line(icicle)[0] == 0

    drive(app, steps, SMALL)


def test_the_fold_row_is_marked_when_the_table_selects_a_folded_function() -> None:
    # GIVEN middleware_10 selected in the table (any line of it)
    app = IcicleApp(snapshot(deep_server_tree()), highlight=Frame("middleware_10", "server.py", 1))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # THEN the fold row that holds it is marked, and nothing else
        assert segment_style_of(icicle, 1, "shared frames").underline
        assert not segment_style_of(icicle, 2, "dispatch").underline

    drive(app, steps, SMALL)


def test_against_a_baseline_the_fold_row_shows_its_change_in_colour_and_text() -> None:
    # GIVEN a baseline in which the shared frames grew 3 points and dispatch shrank
    def with_delta(tree: CallNode, delta: float) -> CallNode:
        children = tuple(with_delta(child, delta) for child in tree.children)
        if tree.frame is not None and tree.frame.function == "dispatch":
            delta = -2.0
        return replace(tree, children=children, delta=delta)

    app = IcicleApp(snapshot(replace(with_delta(deep_server_tree(), 3.0), delta=0.0)))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.press("down")
        # THEN the fold row is red for growth, dispatch blue, and the status says by how much
        assert segment_style_of(icicle, 1, "shared frames").bgcolor == GREW_STRONG.bgcolor
        assert segment_style_of(icicle, 2, "dispatch").bgcolor == SHRANK_STRONG.bgcolor
        assert "Δ +3.0 pt" in lines(icicle)[-1]
        assert any(line.startswith("Δ vs baseline") for line in lines(icicle))

    drive(app, steps, SMALL)


def test_zooming_from_under_the_fold_sends_the_whole_path() -> None:
    app = IcicleApp(snapshot(deep_server_tree()))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.press("down", "down", "down", "right", "enter")
        await pilot.pause()
        (zoom,) = [m for m in app.messages if isinstance(m, Icicle.ZoomIn)]
        assert zoom.path == (*SHARED, QUERY_ITEMS)

    drive(app, steps, SMALL)


# --- the live screen at 80×24 -----------------------------------------------------------


@sync
async def test_at_80x24_a_deep_server_stack_shows_both_hot_leaves(tmp_path: Path) -> None:
    app = server_app(ScriptedSampler([server_second(i) for i in range(5)]), tmp_path)
    async with app.run_test(size=(80, 24)):
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        text = icicle_text(app)
        # THEN the 29 frames every sample shares are one row, and both leaves are shown
        assert "▸ 29 shared frames: <module> → … 27 … → handle_request" in text
        assert "find_emails (views.py)" in text and "query_items (db.py)" in text


@sync
async def test_at_80x24_down_scrolls_and_the_selection_survives_refreshes(tmp_path: Path) -> None:
    sampler = ScriptedSampler([server_second(i) for i in range(5)])
    app = server_app(sampler, tmp_path, seconds=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        icicle = app.query_one(Icicle)
        # WHEN the user tabs to the icicle, unfolds the shared frames and goes down
        await pilot.press("tab", "down", "z", *["down"] * 12)
        y, text = cursor_line(icicle)
        # THEN the icicle scrolled: "all" is gone from its top, the cursor is on screen
        assert text.startswith("middleware_11") and y == len(lines(icicle)) - 2
        assert not lines(icicle)[0].startswith("all")
        # AND the table follows the frame the cursor is on
        table = app.query_one(TopTable)
        assert table.selected_frame is not None
        assert table.selected_frame.function == "middleware_11"
        # WHEN five more seconds arrive and the screen refreshes with them
        shown = app.snapshot_count
        for i in range(5, 10):
            sampler.feed(server_second(i, find=80, query=20))
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 1000)
        await pilot.pause()
        assert app.snapshot_count > shown
        # THEN the same frame is selected on the same row
        assert cursor_line(icicle) == (y, text)
        assert table_functions(app)[0] == "find_emails"


@sync
async def test_at_80x24_filter_and_zoom_still_work_under_the_fold(tmp_path: Path) -> None:
    app = server_app(ScriptedSampler([server_second(i) for i in range(5)]), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        # WHEN filtered to query_items THEN dispatch joins the shared frames
        await pilot.press("slash", *"query", "enter")
        await wait_for(lambda: app.shown is not None and app.shown.view.filter == "query")
        await pilot.pause()
        assert "▸ 30 shared frames: <module> → … 28 … → dispatch" in icicle_text(app)
        await pilot.press("escape")
        await wait_for(lambda: app.shown is not None and app.shown.view.filter is None)
        # WHEN the user zooms into dispatch (under the fold)
        await pilot.press("tab", "down", "down", "enter")
        await wait_for(lambda: app.shown is not None and bool(app.shown.view.zoom))
        # THEN the table is scoped to it and the icicle's root is dispatch
        assert [frame.function for frame in app.shown.view.zoom] == list(SHARED_NAMES)
        assert set(table_functions(app)) == {"dispatch", "find_emails", "query_items"}
        await pilot.pause()
        assert icicle_text(app).splitlines()[1].startswith("dispatch (server.py)")


def test_deep_server_snapshot_80x24(snap_compare: Any, tmp_path: Path) -> None:
    app = server_app(ScriptedSampler([server_second(i) for i in range(5)]), tmp_path)

    async def run_before(pilot: Any) -> None:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == 500)
        await pilot.press("tab", "down", "down", "down")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
