"""The fold of shared frames and the icicle's keyboard geometry, without an App: which
chains fold, what the fold row says at each width, what opening and closing it moves,
where Up/Down/Home/End/PageUp/PageDown land, and which rows a scroll position shows."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from support_icicle import (
    FIND_EMAILS,
    QUERY_ITEMS,
    SHARED,
    call_trees,
    chain_tree,
    deep_server_tree,
    leaf,
    node,
    root,
)

from samplers.model import Frame
from samplers.tree.snapshot import CallNode
from tui.render.icicle_grid import IcicleGrid, clamp_scroll, scroll_to_show
from tui.render.icicle_layout import (
    FOLD_MIN,
    FoldState,
    IcicleCell,
    fold_label,
    layout_icicle,
    shared_chain,
)


def rows_of(cells: tuple[IcicleCell, ...]) -> list[str]:
    """Each row as its cells' labels, for reading a layout at a glance."""
    out: list[str] = []
    for cell in cells:
        if cell.row == len(out):
            out.append("")
        out[cell.row] += ("|" if out[cell.row] else "") + (cell.label.split(" (")[0])
    return out


def frames(*names: str) -> tuple[Frame, ...]:
    return tuple(Frame(name, "server.py", i) for i, name in enumerate(names))


# --- which chains fold ------------------------------------------------------------------


def test_a_deep_server_stack_folds_to_four_rows_with_both_hot_leaves() -> None:
    # GIVEN 30 frames every sample shares, the last (dispatch) calling two hot leaves
    cells = layout_icicle(deep_server_tree(), 78, 40, fold="closed")
    # THEN the 29 frames above dispatch are one row, and the leaves are on row 3
    assert rows_of(cells) == [
        "all",
        "▸ 29 shared frames: <module> → … 27 … → handle_request",
        "dispatch",
        "find_emails|query_items",
    ]
    fold = cells[1]
    assert fold.folded == SHARED[:-1] and fold.path == SHARED[:-1] and fold.total == 100
    assert (fold.x, fold.width) == (0, 78)
    # AND without folding the same tree needs 32 rows to reach the leaves
    assert len(rows_of(layout_icicle(deep_server_tree(), 78, 40))) == 32


def test_chains_of_three_frames_fold_and_of_two_do_not() -> None:
    split = (leaf(FIND_EMAILS, 60), leaf(QUERY_ITEMS, 40))
    # GIVEN three shared frames above the frame where samples split
    three = rows_of(
        layout_icicle(chain_tree(frames("a", "b", "c", "split"), *split), 80, 9, fold="closed")
    )
    assert three[1].startswith("▸ 3 shared frames: a → … 1 … → c")
    assert three[2:] == ["split", "find_emails|query_items"]
    # GIVEN two: not worth a row, they stay as they are
    two = rows_of(
        layout_icicle(chain_tree(frames("a", "b", "split"), *split), 80, 9, fold="closed")
    )
    assert two == ["all", "a", "b", "split", "find_emails|query_items"]
    assert FOLD_MIN == 3


def test_the_chain_ends_above_the_frame_where_samples_part() -> None:
    # GIVEN a shared chain whose last frame has visible own time, then a split below
    tree = root(
        node("a", 100, node("b", 100, node("c", 100, node("d", 100, node("e", 70), line=4)))),
    )
    chain = shared_chain(tree)
    # THEN a, b and c fold; d (30% own time: samples part there) keeps its row
    assert [n.frame.function for n in chain if n.frame] == ["a", "b", "c"]
    assert rows_of(layout_icicle(tree, 80, 9, fold="closed"))[2:] == ["d", "e"]


def test_a_root_with_own_samples_or_two_callees_has_nothing_to_fold() -> None:
    deep = node("a", 50, node("b", 50, node("c", 50, node("d", 50))))
    assert shared_chain(root(deep, total=100)) == ()  # half the samples stop at the root
    assert shared_chain(root(deep, node("x", 50))) == ()
    assert layout_icicle(root(deep, node("x", 50)), 80, 9, fold="closed") == layout_icicle(
        root(deep, node("x", 50)), 80, 9
    )


def test_samples_narrower_than_a_cell_do_not_end_the_chain_wider_ones_do() -> None:
    # GIVEN 1000 samples, one cell of 80 is 12.5 samples; b has 12 own samples
    def tree(own: int) -> CallNode:
        d = node("d", 1000 - own, node("e", 600), node("f", 400 - own))
        return root(node("a", 1000, node("b", 1000, node("c", 1000 - own, d))))

    # THEN at 80 cells they cannot be drawn anyway, and a … c still fold
    assert rows_of(layout_icicle(tree(12), 80, 9, fold="closed"))[1:3] == [
        "▸ 3 shared frames: a → … 1 … → c",
        "d",
    ]
    # AND with 13 (a cell's worth) the chain stops at b: what leaves there is on screen
    assert rows_of(layout_icicle(tree(13), 80, 9, fold="closed"))[1:3] == ["a", "b"]
    # AND at 1000 cells even one sample counts
    assert shared_chain(tree(1), slack=0)[-1].frame == Frame("a", "app.py", 1)


def test_a_zoomed_root_folds_the_chain_under_it() -> None:
    # GIVEN the tree zoomed to "main" (the layout root has a frame of its own)
    zoomed = chain_tree(SHARED, leaf(FIND_EMAILS, 60), leaf(QUERY_ITEMS, 40)).children[0]
    cells = layout_icicle(zoomed.children[0], 80, 9, fold="closed")
    # THEN main is row 0, the fold starts under it, and paths start at main
    assert cells[0].label.startswith("main") and cells[1].folded[0].function == "run"
    assert cells[1].path == SHARED[1:-1]


# --- the fold row's label ---------------------------------------------------------------


def test_the_fold_label_says_how_many_and_names_the_ends_when_there_is_room() -> None:
    chain = SHARED[:-1]  # <module> … handle_request, 29 frames
    assert fold_label(chain, 79) == "▸ 29 shared frames: <module> → … 27 … → handle_request"
    assert fold_label(chain, 79, is_open=True).startswith("▾ 29 shared frames: <module>")
    assert fold_label(chain, 40) == "▸ <module> → … 27 … → handle_request"
    assert fold_label(chain, 30) == "▸ … 29 shared frames …"
    assert fold_label(chain, 18) == "▸ 29 shared frames"
    assert fold_label(chain, 11) == "▸ 29 shared"
    assert fold_label(chain, 5) == "▸ 29…"
    assert fold_label(chain, 0) == ""


def test_at_80_columns_the_live_icicle_names_both_ends_of_the_fold() -> None:
    # The live screen's icicle is the terminal's width: 79 cells for the label.
    fold = layout_icicle(deep_server_tree(), 80, 9, fold="closed")[1]
    assert fold.label == "▸ 29 shared frames: <module> → … 27 … → handle_request"


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.text(), min_size=FOLD_MIN, max_size=8),
    cells=st.integers(min_value=0, max_value=90),
    is_open=st.booleans(),
)
def test_any_fold_label_fits_and_is_safe(names: list[str], cells: int, is_open: bool) -> None:
    label = fold_label(tuple(Frame(n, "f.py", 1) for n in names), cells, is_open)
    assert cell_len(label) <= cells
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in label)


# --- opening and closing ----------------------------------------------------------------


def test_opening_the_fold_puts_its_frames_back_under_the_fold_row() -> None:
    cells = layout_icicle(deep_server_tree(), 80, 40, fold="open")
    rows = rows_of(cells)
    # THEN the fold row stays (open mark) and the 29 frames follow it, then the rest
    assert rows[1].startswith("▾ 29 shared frames") and cells[1].is_open
    assert rows[2:31] == [frame.function for frame in SHARED[:-1]]
    assert rows[31:] == ["dispatch", "find_emails|query_items"]


@st.composite
def chained_trees(draw: st.DrawFn) -> CallNode:
    """A random tree under a chain of 0–8 frames every sample shares (or nearly)."""
    below = draw(call_trees())
    total = below.total
    tree = CallNode(Frame("bottom", "b.py", 1), total, below.own, below.children)
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        own = draw(st.integers(min_value=0, max_value=2)) if total > 4 else 0
        total += own
        tree = CallNode(Frame(f"shared{i}", "s.py", i), total, own, (tree,))
    return CallNode(None, total, 0, (tree,))


@settings(max_examples=300, deadline=None)
@given(
    tree=chained_trees(),
    width=st.integers(min_value=1, max_value=200),
    min_cells=st.integers(min_value=1, max_value=3),
)
def test_folding_moves_rows_and_nothing_else(tree: CallNode, width: int, min_cells: int) -> None:
    # GIVEN any tree under a shared chain, laid out tall enough to hold all of it
    plain = layout_icicle(tree, width, 40, min_cells)
    closed = layout_icicle(tree, width, 40, min_cells, fold="closed")
    opened = layout_icicle(tree, width, 40, min_cells, fold="open")
    chain = tuple(c for c in _chain_of(closed) if c)
    if not chain:
        assert closed == plain and opened == plain
        return
    folded = {chain[: i + 1] for i in range(len(chain))}
    moved = len(chain) - 1
    assert len(chain) >= FOLD_MIN
    # THEN closed: the chain's cells become one fold row, and every other cell keeps its
    # place and label, moved up by the rows the chain took less the fold's one
    (fold,) = [c for c in closed if c.is_fold]
    assert fold.row == 1 and fold.path == chain
    # AND unfolded, the chain's frames are each alone on their row, (nearly) full width
    for depth in range(1, len(chain) + 1):
        (only,) = [c for c in plain if c.row == depth]
        assert only.path == chain[:depth] and only.width >= width - 1
    assert fold.width == next(c.width for c in plain if c.path == fold.path)
    expected = {
        (c.path, c.row - moved if c.row else 0, c.x, c.width, c.label)
        for c in plain
        if c.path not in folded
    }
    assert {(c.path, c.row, c.x, c.width, c.label) for c in closed if not c.is_fold} == expected
    # AND open: every cell of the plain layout is there, one row down for the fold row
    shifted = {(c.path, c.row + 1 if c.row else 0, c.x, c.width) for c in plain}
    assert {(c.path, c.row, c.x, c.width) for c in opened if not c.is_fold} == shifted


def _chain_of(cells: tuple[IcicleCell, ...]) -> tuple[Frame, ...]:
    folds = [c for c in cells if c.is_fold]
    return folds[0].folded if folds else ()


# --- where the keys lead ----------------------------------------------------------------


def grid(fold: FoldState = "closed", width: int = 80) -> IcicleGrid:
    return IcicleGrid.of(layout_icicle(deep_server_tree(), width, 40, fold=fold))


def names(cell: IcicleCell | None) -> str:
    assert cell is not None
    return "fold" if cell.is_fold else ("all" if cell.frame is None else cell.frame.function)


def test_down_goes_through_the_closed_fold_and_up_comes_back_to_it() -> None:
    g = grid()
    path = ["all"]
    cell = g.root
    while cell is not None and (cell := g.moved(cell, "child")) is not None:
        path.append(names(cell))
    assert path == ["all", "fold", "dispatch", "find_emails"]
    leaf_cell = g.locate((*SHARED, QUERY_ITEMS))
    ups = [names(leaf_cell)]
    while leaf_cell is not None and (leaf_cell := g.moved(leaf_cell, "parent")) is not None:
        ups.append(names(leaf_cell))
    assert ups == ["query_items", "dispatch", "fold", "all"]


def test_a_path_inside_the_closed_fold_lands_on_it_and_off_it_when_open() -> None:
    # GIVEN a cursor left on middleware_10 (one of the folded frames)
    path = SHARED[:11]
    assert path[-1].function == "middleware_10"
    assert names(grid("closed").locate(path)) == "fold"
    assert names(grid("open").locate(path)) == "middleware_10"
    # AND on_fold picks the fold row even when open (its path is its last frame's)
    assert names(grid("open").locate(SHARED[:-1], on_fold=True)) == "fold"
    assert names(grid("open").locate(SHARED[:-1])) == "handle_request"


def test_in_the_open_fold_up_from_its_first_frame_is_the_fold_row() -> None:
    g = grid("open")
    assert g.fold is not None
    first = g.moved(g.fold, "child")
    assert names(first) == "<module>"
    assert first is not None and names(g.moved(first, "parent")) == "fold"


def test_home_end_and_pages() -> None:
    g = grid("open")
    root_cell = g.root
    assert root_cell is not None
    end = g.moved(root_cell, "hottest")
    assert names(end) == "find_emails" and end is not None and end.row == 32
    assert names(g.moved(end, "root")) == "all"
    down = g.moved(root_cell, "page_down", page=7)
    assert down is not None and down.row == 7 and names(down) == SHARED[5].function
    assert names(g.moved(down, "page_up", page=100)) == "all"
    # A leaf has nowhere further down to go.
    assert g.moved(end, "child") is None and g.moved(end, "page_down", page=5) is None


def test_the_scroll_moves_as_little_as_it_takes_to_show_the_cursor() -> None:
    # 40 rows, 8 on screen
    assert scroll_to_show(0, 5, 8, 40) == 0  # on screen: no move
    assert scroll_to_show(0, 8, 8, 40) == 1  # one past the bottom: one row
    assert scroll_to_show(10, 3, 8, 40) == 3  # above the top: it becomes the top
    assert scroll_to_show(0, 39, 8, 40) == 32  # the last row sits at the bottom
    assert clamp_scroll(50, 8, 40) == 32 and clamp_scroll(-3, 8, 40) == 0
    assert clamp_scroll(5, 8, 4) == 0  # everything fits: no scroll


def test_a_zoomed_grid_takes_absolute_paths_and_gives_them_back() -> None:
    # GIVEN the view zoomed to main: the layout root is main, "<module>" lies above it
    zoomed = deep_server_tree().children[0].children[0]
    g = IcicleGrid.of(layout_icicle(zoomed, 80, 40, fold="closed"), prefix=SHARED[:1])
    leaf_cell = g.locate((*SHARED, QUERY_ITEMS))
    assert names(leaf_cell) == "query_items" and leaf_cell is not None
    assert g.absolute(leaf_cell) == (*SHARED, QUERY_ITEMS)
    # AND paths outside the zoomed subtree land on its root
    assert names(g.locate(())) == "main" and names(g.locate((FIND_EMAILS,))) == "main"
