"""The Icicle widget driven through a Pilot: keys, mouse, messages, highlight, safety."""

from __future__ import annotations

from support_icicle import (
    HANDLE,
    LOAD,
    MAIN,
    SERVE,
    TREE,
    IcicleApp,
    drive,
    lines,
    node,
    root,
    segment_style_of,
    snapshot,
)
from textual.pilot import Pilot

from samplers.model import Frame
from tui.widgets.icicle import Icicle


def test_arrow_keys_walk_the_tree_and_report_the_frame() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # GIVEN the cursor on "all"; WHEN down, down, right, left, up are pressed
        await pilot.press("down", "down", "right")
        # THEN the cursor went to main, serve, then its sibling load
        assert icicle.cursor_path == (MAIN.frame, LOAD.frame)
        await pilot.press("left", "k")
        assert icicle.cursor_path == (MAIN.frame,)
        await pilot.press("j", "right")  # j: first callee, then the next sibling
        await pilot.pause()
        selected = [m.frame for m in app.messages if isinstance(m, Icicle.FrameSelected)]
        main, serve, load = MAIN.frame, SERVE.frame, LOAD.frame
        assert selected == [main, serve, load, serve, main, serve, load]
        assert icicle.cursor_path == (MAIN.frame, LOAD.frame)
        # AND h / l do not move: `l` means "lines" on the live screen, one key one meaning
        await pilot.press("h", "l")
        assert icicle.cursor_path == (MAIN.frame, LOAD.frame)

    drive(app, steps)


def test_enter_zooms_in_with_the_absolute_path_and_escape_zooms_out() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # WHEN enter on "all": nothing to zoom into; escape when not zoomed: no message
        await pilot.press("enter", "escape")
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        zooms = [m for m in app.messages if isinstance(m, Icicle.ZoomIn)]
        assert [z.path for z in zooms] == [(MAIN.frame, SERVE.frame)]
        assert not [m for m in app.messages if isinstance(m, Icicle.ZoomOut)]
        # WHEN the app shows the zoomed snapshot (root = serve) and enter is pressed on
        # handle, THEN the path is still absolute from "all"
        assert MAIN.frame and SERVE.frame
        icicle.show(snapshot(SERVE, version=2, zoom=(MAIN.frame, SERVE.frame)))
        await pilot.pause()
        assert lines(icicle)[0].startswith("serve (app.py:20)")
        await pilot.press("down", "enter", "escape")
        await pilot.pause()
        zooms = [m for m in app.messages if isinstance(m, Icicle.ZoomIn)]
        assert zooms[-1].path == (MAIN.frame, SERVE.frame, HANDLE.frame)
        assert isinstance(app.messages[-1], Icicle.ZoomOut)

    drive(app, steps)


def test_cursor_stays_on_its_frame_across_updates_and_falls_back_when_it_goes() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.press("down", "down", "right")  # load
        # WHEN load grows past serve and moves to the left
        grown = root(node("main", 200, node("load", 150, line=40), SERVE, line=5))
        icicle.show(snapshot(grown, version=2))
        await pilot.pause()
        # THEN the cursor is still on load, drawn at its new place
        assert icicle.cursor_path == (MAIN.frame, LOAD.frame)
        assert segment_style_of(icicle, 2, "load").reverse
        app.messages.clear()
        # WHEN load disappears THEN the cursor falls back to main, and says so
        icicle.show(snapshot(root(node("main", 60, SERVE, line=5)), version=3))
        await pilot.pause()
        assert icicle.cursor_path == (MAIN.frame,)
        assert [m.frame for m in app.messages] == [MAIN.frame]

    drive(app, steps)


def test_highlight_marks_every_call_of_the_function_and_nothing_else() -> None:
    # GIVEN "parse" called from two places (different lines, same function and file)
    tree = root(
        node("a", 50, node("parse", 40, line=3)),
        node("b", 50, node("parse", 20, line=7), node("other", 20)),
    )
    app = IcicleApp(snapshot(tree), highlight=Frame("parse", "app.py", 99))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        styles = [s for s in icicle.render_line(2) if s.text.strip()]
        marked = [s.text.split()[0] for s in styles if s.style and s.style.underline]
        assert marked == ["parse", "parse"]

    drive(app, steps)


def test_hostile_names_are_shown_literally_and_no_control_reaches_the_screen() -> None:
    markup = node("[bold red]x[/]", 50, file="[@click=app.quit]f.py")
    escape = node("\x1b[31mevil\x07\u202e", 50, file="e\x1b]0;title\x07.py")
    app = IcicleApp(snapshot(root(markup, escape)))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.press("down", "right")  # status line names the escape frame
        await pilot.pause()
        text = "\n".join(lines(icicle))
        assert "[bold red]x[/]" in text and "evil" in text and "[31m" not in text
        for y in range(icicle.size.height):
            for segment in icicle.render_line(y):
                assert segment.text.isprintable(), repr(segment.text)
        style = segment_style_of(icicle, 1, "[bold red]x[/]")
        assert not style.bold and not style.italic and style.link is None

    drive(app, steps)


def test_status_line_names_the_selected_frame_samples_and_share() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.press("down", "down")
        status = lines(icicle)[-1]
        assert status.startswith("serve (app.py:20) · 60 samples · 60.0% of total")

    drive(app, steps)


def test_baseline_colours_by_change_with_a_legend_and_readable_deltas() -> None:
    tree = root(node("grew", 60, delta=4.2), node("shrank", 40, delta=-2.0), delta=0.0)
    app = IcicleApp(snapshot(tree))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        shown = lines(icicle)
        assert "grew (app.py:1) +4.2" in shown[1] and "shrank (app.py:1) -2.0" in shown[1]
        assert any(line.startswith("Δ vs baseline") and "grew" in line for line in shown)
        grew_bg = segment_style_of(icicle, 1, "grew").bgcolor
        shrank_bg = segment_style_of(icicle, 1, "shrank").bgcolor
        assert grew_bg and grew_bg.triplet and shrank_bg and shrank_bg.triplet
        assert grew_bg.triplet.red > grew_bg.triplet.blue
        assert shrank_bg.triplet.blue > shrank_bg.triplet.red

    drive(app, steps)


def test_cells_are_separated_so_structure_shows_without_colour() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        row = lines(icicle)[2]
        assert row.index("│") < row.index("load")  # serve's cell ends before load's

    drive(app, steps)


def test_click_selects_and_a_second_click_zooms() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.click(Icicle, offset=(70, 2))  # on load
        await pilot.pause()
        assert icicle.cursor_path == (MAIN.frame, LOAD.frame)
        await pilot.click(Icicle, offset=(70, 2))
        await pilot.pause()
        assert isinstance(app.messages[-1], Icicle.ZoomIn)
        assert app.messages[-1].path == (MAIN.frame, LOAD.frame)

    drive(app, steps)


def test_double_click_zooms_straight_in() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        await pilot.double_click(Icicle, offset=(10, 3))  # on handle
        await pilot.pause()
        zooms = [m for m in app.messages if isinstance(m, Icicle.ZoomIn)]
        assert [z.path for z in zooms] == [(MAIN.frame, SERVE.frame, HANDLE.frame)]

    drive(app, steps)


def test_layout_follows_a_terminal_resize() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        assert lines(icicle)[2].index("load") == 48  # 60% of 80
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert lines(icicle)[2].index("load") == 24  # 60% of 40
        assert len(lines(icicle)[2]) == 40

    drive(app, steps)


def test_empty_window_and_no_snapshot_yet_say_so() -> None:
    app = IcicleApp(snapshot(root(total=0)))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        assert lines(icicle)[0].startswith("no samples in this window")
        fresh = Icicle()
        await app.mount(fresh)
        await pilot.pause()
        assert fresh.render_line(0).text.startswith("waiting for samples")

    drive(app, steps)


def test_icicle_snapshot_80x10(snap_compare) -> None:  # type: ignore[no-untyped-def]
    tree = root(
        node(
            "main",
            100,
            node("serve", 60, HANDLE, line=20),
            node("load", 30, file="/usr/lib/python3.11/json/decoder.py", line=40),
            line=5,
        )
    )
    assert snap_compare(IcicleApp(snapshot(tree)), press=["down", "down"], terminal_size=(80, 10))


def test_icicle_baseline_without_colour_snapshot_80x10(snap_compare, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN NO_COLOR and a baseline: THEN the Δ and the cell edges are still readable
    monkeypatch.setenv("NO_COLOR", "1")
    tree = root(
        node("main", 100, node("serve", 70, delta=12.5), node("load", 25, delta=-9.0), delta=0.0),
        delta=0.0,
    )
    assert snap_compare(IcicleApp(snapshot(tree)), press=["down"], terminal_size=(80, 10))
