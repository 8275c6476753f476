"""The icicle: pure layout invariants, palette, and the widget driven through a Pilot."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from samplers.model import Frame
from samplers.snapshot import CallNode, Snapshot, View
from tui.icicle_layout import (
    IcicleCell,
    cell_label,
    find_node,
    layout_icicle,
    printable,
    truncate,
)
from tui.palette import (
    GREW_STRONG,
    SHRANK,
    package_of,
    style_for_delta,
    style_for_frame,
)
from tui.widgets.icicle import Icicle

# --- builders ---------------------------------------------------------------------------


def node(
    function: str,
    total: int,
    *children: CallNode,
    file: str = "app.py",
    line: int = 1,
    delta: float | None = None,
) -> CallNode:
    own = total - sum(c.total for c in children)
    return CallNode(Frame(function, file, line), total, own, tuple(children), delta)


def root(*children: CallNode, total: int | None = None, delta: float | None = None) -> CallNode:
    whole = sum(c.total for c in children) if total is None else total
    return CallNode(None, whole, whole - sum(c.total for c in children), children, delta)


def snapshot(tree: CallNode, version: int = 1, zoom: tuple[Frame, ...] = ()) -> Snapshot:
    return Snapshot(
        version=version,
        view=View(zoom=zoom),
        t_start=0.0,
        t_end=30.0,
        first_t=0.0,
        last_t=30.0,
        total_samples=tree.total if not zoom else 1000,
        functions=(),
        root=tree,
        threads=(("MainThread", tree.total),),
        rate=100.0,
        mode="cpu",
    )


def by_path(cells: tuple[IcicleCell, ...]) -> dict[tuple[Frame, ...], IcicleCell]:
    return {c.path: c for c in cells}


# A small program: main calls serve (60) and load (30); serve calls handle (50).
HANDLE = node("handle", 50, file="/srv/venv/lib/python3.11/site-packages/web/h.py", line=9)
SERVE = node("serve", 60, HANDLE, line=20)
LOAD = node("load", 30, line=40)
MAIN = node("main", 100, SERVE, LOAD, line=5)
TREE = root(MAIN)

# --- layout -----------------------------------------------------------------------------


def test_root_spans_the_width_and_children_are_proportional() -> None:
    # GIVEN main (100) -> serve (60), load (30); WHEN laid out 100 wide
    cells = by_path(layout_icicle(TREE, 100, 10))
    # THEN "all" and main fill the width, serve and load take 60 and 30 cells side by side
    assert cells[()].label == "all" and (cells[()].x, cells[()].width) == (0, 100)
    m, s, lo = MAIN.frame, SERVE.frame, LOAD.frame
    assert m and s and lo
    assert (cells[(m,)].x, cells[(m,)].width) == (0, 100)
    assert (cells[(m, s)].x, cells[(m, s)].width) == (0, 60)
    assert (cells[(m, lo)].x, cells[(m, lo)].width) == (60, 30)
    assert cells[(m, s)].row == 2 and cells[(m, s)].total == 60


def test_cumulative_rounding_leaves_no_gap_between_siblings() -> None:
    # GIVEN three equal children that cannot each get a whole share of 10 cells
    tree = root(node("a", 1), node("b", 1), node("c", 1))
    # WHEN laid out
    row = [c for c in layout_icicle(tree, 10, 3) if c.row == 1]
    # THEN they tile the row exactly: no overlap, no gap, all ten cells used
    assert [(c.x, c.end) for c in row] == [(0, 3), (3, 7), (7, 10)]


def test_frames_narrower_than_a_cell_are_dropped_with_their_subtree() -> None:
    # GIVEN a frame worth 0.2 of a cell with a child of its own
    tiny = node("tiny", 1, node("under_tiny", 1))
    tree = root(node("big", 499), tiny)
    # WHEN laid out 100 wide
    names = {c.frame.function for c in layout_icicle(tree, 100, 5) if c.frame}
    # THEN neither it nor its callee is placed
    assert names == {"big"}


def test_min_cells_drops_frames_below_it() -> None:
    tree = root(node("wide", 90), node("narrow", 10))
    names = {c.frame.function for c in layout_icicle(tree, 20, 3, min_cells=3) if c.frame}
    assert names == {"wide"}


def test_rows_beyond_the_height_are_not_laid_out() -> None:
    deep = node("f0", 10)
    for i in range(1, 50):
        deep = node(f"f{i}", 10, deep)
    cells = layout_icicle(root(deep), 40, 6)
    assert max(c.row for c in cells) == 5
    assert len(cells) == 6


def test_empty_grid_gives_no_cells() -> None:
    assert layout_icicle(TREE, 0, 10) == ()
    assert layout_icicle(TREE, 10, 0) == ()


def test_labels_put_the_function_first_and_location_only_if_room() -> None:
    frame = Frame("handle", "/srv/web/handlers.py", 42)
    assert cell_label(frame, 80) == "handle (/srv/web/handlers.py:42)"
    assert cell_label(frame, 22) == "handle"
    assert cell_label(frame, 23) == "handle (handlers.py:42)"
    assert cell_label(frame, 10) == "handle"
    assert cell_label(frame, 4) == "han…"
    assert cell_label(None, 10) == "all"


def test_labels_carry_the_delta_as_text_before_the_location() -> None:
    frame = Frame("handle", "h.py", 4)
    assert cell_label(frame, 40, delta=3.14) == "handle (h.py:4) +3.1"
    assert cell_label(frame, 12, delta=-0.5) == "handle -0.5"
    assert cell_label(frame, 6, delta=-0.5) == "handle"


def test_truncation_counts_terminal_cells_not_characters() -> None:
    # Wide characters take two cells; the cut never splits one or overflows.
    text = truncate("函数名字很长", 7)
    assert text.endswith("…") and cell_len(text) <= 7
    assert truncate("short", 10) == "short"
    assert truncate("abc", 0) == ""


def test_printable_removes_escapes_controls_and_bidi_marks() -> None:
    assert printable("\x1b[31mevil\x1b]0;title\x07") == "evil"
    assert printable("a\nb\tc") == "a b c"
    assert printable("abc\u202edcba\u200f") == "abcdcba"
    assert printable("\x9b31m\x07ok") == "?ok"
    assert printable("[bold red]x[/]") == "[bold red]x[/]"  # markup stays literal text


@settings(max_examples=300, deadline=None)
@given(
    function=st.text(),
    file=st.text(),
    line=st.integers(min_value=0, max_value=10**6),
    cells=st.integers(min_value=0, max_value=60),
    delta=st.none() | st.floats(min_value=-100, max_value=100),
)
def test_any_name_gives_a_safe_label_that_fits(
    function: str, file: str, line: int, cells: int, delta: float | None
) -> None:
    label = cell_label(Frame(function, file, line), cells, delta)
    assert cell_len(label) <= cells
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in label)


def test_find_node_follows_a_path_and_misses_unknown_ones() -> None:
    assert MAIN.frame and SERVE.frame and LOAD.frame and HANDLE.frame
    assert find_node(TREE, (MAIN.frame, SERVE.frame)) is SERVE
    assert find_node(TREE, ()) is TREE
    assert find_node(TREE, (MAIN.frame, LOAD.frame, HANDLE.frame)) is None


@st.composite
def call_trees(draw: st.DrawFn, total: int = 0, depth: int = 0, name: str = "r") -> CallNode:
    if depth == 0:
        total = draw(st.integers(min_value=0, max_value=5000))
    parts: list[int] = []
    if depth < 6 and total > 0:
        budget = total - draw(st.integers(min_value=0, max_value=total))  # leave own time
        for _ in range(draw(st.integers(min_value=0, max_value=5))):
            if budget <= 0:
                break
            part = draw(st.integers(min_value=1, max_value=budget))
            parts.append(part)
            budget -= part
    parts.sort(reverse=True)
    children = tuple(
        draw(call_trees(part, depth + 1, f"{name}.{i}")) for i, part in enumerate(parts)
    )
    own = total - sum(parts)
    frame = None if depth == 0 else Frame(name, f"mod{depth % 3}.py", depth)
    return CallNode(frame, total, own, children)


@settings(max_examples=300, deadline=None)
@given(
    tree=call_trees(),
    width=st.integers(min_value=1, max_value=240),
    height=st.integers(min_value=1, max_value=12),
    min_cells=st.integers(min_value=1, max_value=4),
)
def test_layout_invariants(tree: CallNode, width: int, height: int, min_cells: int) -> None:
    cells = layout_icicle(tree, width, height, min_cells)
    placed = by_path(cells)
    scale = max(tree.total, 1)
    assert cells[0].row == 0 and (cells[0].x, cells[0].width) == (0, width)
    rows: dict[int, list[IcicleCell]] = {}
    for cell in cells:
        rows.setdefault(cell.row, []).append(cell)
        assert 0 <= cell.row < height
        assert 0 <= cell.x and cell.end <= width
        assert cell.label == "" or cell_len(cell.label) <= cell.width - 1
        assert all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in cell.label)
        if cell.row == 0:
            continue
        # Widths proportional: within one cell of the exact share of the whole width.
        assert width * cell.total >= min_cells * scale, "narrower than min_cells"
        assert cell.width >= min_cells
        assert abs(cell.width - width * cell.total / scale) <= 1
        parent = placed[cell.path[:-1]]
        assert parent.row == cell.row - 1 and parent.x <= cell.x and cell.end <= parent.end
    for row in rows.values():
        for left, right in pairwise(row):
            assert left.end <= right.x, "siblings and cousins never overlap"
    for cell in cells:
        found = find_node(tree, cell.path)
        assert found is not None
        shown = [placed.get((*cell.path, c.frame)) for c in found.children if c.frame]
        for left, right in pairwise(shown):
            if left is not None and right is not None:
                assert left.end == right.x, "adjacent siblings leave no rounding gap"
        for child in found.children:
            # Nothing is dropped that had room to be drawn.
            if cell.row + 1 < height and width * child.total >= min_cells * scale:
                assert child.frame is not None and (*cell.path, child.frame) in placed


# --- palette ----------------------------------------------------------------------------


def test_colour_follows_the_package_and_is_stable() -> None:
    assert package_of("/srv/venv/lib/python3.11/site-packages/requests/api.py") == "requests"
    assert package_of("/usr/lib/python3.12/json/decoder.py") == "stdlib"
    assert package_of("<frozen importlib._bootstrap>") == "stdlib"
    assert package_of("app.py") == "app.py"
    a = Frame("get", "/v/lib/python3.11/site-packages/requests/api.py")
    b = Frame("post", "/other/lib/python3.11/site-packages/requests/sessions.py")
    assert style_for_frame(a) == style_for_frame(b)


def test_delta_colours_are_red_for_growth_and_blue_for_shrinkage() -> None:
    assert style_for_delta(5.0) == GREW_STRONG
    assert style_for_delta(-0.5) == SHRANK
    grew, shrank = style_for_delta(0.5).bgcolor, style_for_delta(-0.5).bgcolor
    assert grew and shrank and grew.triplet and shrank.triplet
    assert grew.triplet.red > grew.triplet.blue and shrank.triplet.blue > shrank.triplet.red


# --- widget -----------------------------------------------------------------------------


class IcicleApp(App[None]):
    def __init__(self, shown: Snapshot, highlight: Frame | None = None) -> None:
        super().__init__()
        self.shown = shown
        self.highlight = highlight
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Icicle()

    def on_mount(self) -> None:
        icicle = self.query_one(Icicle)
        icicle.show(self.shown, self.highlight)
        icicle.focus()

    def on_icicle_frame_selected(self, message: Icicle.FrameSelected) -> None:
        self.messages.append(message)

    def on_icicle_zoom_in(self, message: Icicle.ZoomIn) -> None:
        self.messages.append(message)

    def on_icicle_zoom_out(self, message: Icicle.ZoomOut) -> None:
        self.messages.append(message)


def drive(
    app: IcicleApp, steps: Callable[[Pilot[None], Icicle], Awaitable[None]], size=(80, 10)
) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(pilot, app.query_one(Icicle))

    asyncio.run(main())


def lines(icicle: Icicle) -> list[str]:
    return [icicle.render_line(y).text for y in range(icicle.size.height)]


def segment_style_of(icicle: Icicle, y: int, text: str):  # type: ignore[no-untyped-def]
    for segment in icicle.render_line(y):
        if text in segment.text:
            return segment.style
    raise AssertionError(f"{text!r} not on line {y}: {icicle.render_line(y).text!r}")


def test_arrow_keys_walk_the_tree_and_report_the_frame() -> None:
    app = IcicleApp(snapshot(TREE))

    async def steps(pilot: Pilot[None], icicle: Icicle) -> None:
        # GIVEN the cursor on "all"; WHEN down, down, right, left, up are pressed
        await pilot.press("down", "down", "right")
        # THEN the cursor went to main, serve, then its sibling load
        assert icicle.cursor_path == (MAIN.frame, LOAD.frame)
        await pilot.press("left", "k")
        assert icicle.cursor_path == (MAIN.frame,)
        await pilot.press("j", "l")  # vim keys: first callee, then next sibling
        await pilot.pause()
        selected = [m.frame for m in app.messages if isinstance(m, Icicle.FrameSelected)]
        main, serve, load = MAIN.frame, SERVE.frame, LOAD.frame
        assert selected == [main, serve, load, serve, main, serve, load]
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
