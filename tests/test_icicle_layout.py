"""The icicle's pure layout and its palette: geometry, labels and colours without an App."""

from __future__ import annotations

import unicodedata
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from support_icicle import HANDLE, LOAD, MAIN, SERVE, TREE, by_path, call_trees, node, root

from samplers.model import Frame
from samplers.tree.snapshot import CallNode
from tui.render.icicle_layout import (
    IcicleCell,
    cell_label,
    find_node,
    layout_icicle,
    printable,
    truncate,
)
from tui.render.palette import (
    GREW_STRONG,
    SHRANK,
    package_of,
    style_for_delta,
    style_for_frame,
)

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
