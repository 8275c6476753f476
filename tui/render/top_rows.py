"""The top-functions table's layout: which columns fit a width, what each cell says, how
it is fitted to its column, and each line as Rich Segments in the styles given. No
Textual, so it is tested without an App; `tui.widgets.top_table` reads the styles from
CSS, caches lines and handles keys and the mouse.

Function names come from the profiled process: they pass through `clean` here and are
only ever placed in Segments as text, never parsed as markup.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from samplers.tree.snapshot import FunctionStat, Snapshot
from tui.render.safe_text import clean
from tui.render.sparkline import human_seconds, sparkline

SortKey = Literal["own", "total", "own_s", "total_s"]
SORT_KEYS: tuple[SortKey, ...] = ("own", "total", "own_s", "total_s")
Align = Literal["left", "right"]
Emphasis = Literal["", "bold", "italic"]

MAX_ROWS = 100  # more than any screen shows; the tree sends up to 150 by own and by total
FUNC_W_MAX = 90
HISTORY_W_MAX = 40
CELL_PADDING = 1  # blank cells on each side of every column
SORT_MARKER = " ▼"

SORT_VALUE: dict[SortKey, Callable[[FunctionStat], float]] = {
    "own": lambda f: f.own,
    "total": lambda f: f.total,
    "own_s": lambda f: f.own_seconds,
    "total_s": lambda f: f.total_seconds,
}

# name, label, content width (the function column takes what is left)
_NUMERIC = (("own", "%Own", 6), ("total", "%Total", 6), ("own_s", "OwnTime", 7))
_TOTAL_S = ("total_s", "TotalTime", 9)
_DELTA = ("delta", "Δ%Total", 7)
_LEFT_ALIGNED = frozenset({"function", "history"})
_EMPHASIS: dict[Emphasis, Style] = {
    "": Style.null(),
    "bold": Style(bold=True),
    "italic": Style(italic=True),
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: `label` carries the sort marker when the table is sorted by it."""

    name: str
    label: str
    width: int  # content cells, without CELL_PADDING on each side
    align: Align

    @property
    def outer_width(self) -> int:
        return self.width + 2 * CELL_PADDING


def layout_columns(
    width: int, *, sort_by: SortKey, with_delta: bool, by_line: bool
) -> tuple[Column, ...]:
    """The columns for a table `width` cells wide (0: not laid out yet, taken as 80).

    TotalTime is dropped under 70 cells; Δ%Total appears with a baseline. Names get the
    room first: the history sparkline keeps 8 cells until names have FUNC_W_MAX, then
    grows up to HISTORY_W_MAX, and names take the rest.
    """
    width = width or 80
    fixed_cols: list[tuple[str, str, int]] = list(_NUMERIC)
    if width >= 70:
        fixed_cols.append(_TOTAL_S)
    if with_delta:
        fixed_cols.append(_DELTA)
    fixed = sum(w + 2 for _, _, w in fixed_cols) + 2 + 2 + 2  # padding, scrollbar
    history_w = max(8, min(HISTORY_W_MAX, width - fixed - FUNC_W_MAX - 2))
    func_w = max(16, width - fixed - history_w - 2)
    function_label = "Function (file:line)" if by_line else "Function (file)"
    specs = [*fixed_cols, ("function", function_label, func_w), ("history", "history", history_w)]
    return tuple(
        Column(
            name,
            label + (SORT_MARKER if name == sort_by else ""),
            w,
            "left" if name in _LEFT_ALIGNED else "right",
        )
        for name, label, w in specs
    )


def table_width(columns: Sequence[Column]) -> int:
    return sum(c.outer_width for c in columns)


def column_at(columns: Sequence[Column], x: int) -> Column | None:
    """The column under table cell `x` (padding included), None past the last one."""
    if x < 0:
        return None
    for column in columns:
        if x < column.outer_width:
            return column
        x -= column.outer_width
    return None


def ranked(snapshot: Snapshot, sort_by: SortKey) -> list[FunctionStat]:
    """The rows of the table, top first: at most MAX_ROWS functions by `sort_by`."""
    return sorted(snapshot.functions, key=SORT_VALUE[sort_by], reverse=True)[:MAX_ROWS]


def cell_values(
    stat: FunctionStat, snapshot: Snapshot, columns: Sequence[Column]
) -> tuple[str, ...]:
    """What each of `columns` says for `stat`, unpadded (the sparkline is drawn at its
    column's width)."""
    total = max(1, snapshot.total_samples)
    with_line = snapshot.view.by_line or bool(stat.key.line)
    out: list[str] = []
    for column in columns:
        name = column.name
        if name == "own":
            out.append(f"{stat.own * 100 / total:5.1f}")
        elif name == "total":
            out.append(f"{min(100.0, stat.total * 100 / total):5.1f}")
        elif name == "own_s":
            out.append(human_seconds(stat.own_seconds))
        elif name == "total_s":
            out.append(human_seconds(stat.total_seconds))
        elif name == "delta":
            out.append("" if stat.delta_total is None else f"{stat.delta_total:+.1f}")
        elif name == "function":
            out.append(clean(stat.key.label(with_line=with_line)))
        else:
            out.append(sparkline(stat.history, column.width, low=0.0, high=1.0))
    return tuple(out)


def emphasis(column: str, value: str) -> Emphasis:
    """Growth against the baseline is bold, shrinkage italic: told apart without colour."""
    if column == "delta" and value:
        return "bold" if value.startswith("+") else "italic"
    return ""


def fit(value: str, width: int, align: Align) -> str:
    """`value` in exactly `width` cells on one line: names and sparklines left-aligned,
    ending in an ellipsis when cut; numbers right-aligned."""
    if width <= 0:
        return ""
    if align == "left":
        if cell_len(value) > width:
            value = set_cell_size(value, width - 1) + "…"
        return value + " " * (width - cell_len(value))
    value = value.rstrip()
    if cell_len(value) > width:
        value = set_cell_size(value, width)
    return " " * (width - cell_len(value)) + value


def header_text(column: Column) -> str:
    """The header cell's content: the label fitted to the column, the sort marker kept
    visible by shortening the label when both do not fit."""
    label = column.label
    if label.endswith(SORT_MARKER) and cell_len(label) > column.width:
        room = max(0, column.width - cell_len(SORT_MARKER))
        label = set_cell_size(label[: -len(SORT_MARKER)], room) + SORT_MARKER
    if column.align == "left":
        return set_cell_size(label, column.width)
    return fit(label, column.width, "right")


@dataclass(frozen=True, slots=True)
class TableStyles:
    """The styles a line is painted in: the widget's, and those of its parts (from CSS)."""

    base: Style
    header: Style
    cursor: Style
    hover: Style
    header_hover: Style


def header_line(
    columns: Sequence[Column], styles: TableStyles, *, hover: bool, width: int
) -> list[Segment]:
    """The header's Segments, carried on to `width` cells in the header's style."""
    component = styles.hover + styles.header_hover if hover else Style()
    post = Style.from_color(color=component.color)
    segments = [
        Segment(f" {header_text(column)} ", styles.header + _cell_meta(-1, i) + component + post)
        for i, column in enumerate(columns)
    ]
    segments.append(_extension(columns, styles.header + component, -1, width))
    return segments


def row_line(
    columns: Sequence[Column],
    values: Sequence[str],
    row: int,
    styles: TableStyles,
    *,
    cursor: bool,
    hover: bool,
    width: int,
) -> list[Segment]:
    """Row `row`'s Segments: each value fitted and padded, in the cursor and hover styles
    when it has them, carried on to `width` cells."""
    component = Style()
    if hover:
        component += styles.hover
    if cursor:
        component += styles.cursor
    # CSS decides the cursor's text colour; the cell's own style keeps its emphasis.
    post = Style.from_color(color=component.color)
    segments = []
    for index, (column, value) in enumerate(zip(columns, values, strict=True)):
        pre = styles.base + _cell_meta(row, index) + component
        pad = Segment(" " * CELL_PADDING, pre + post)
        text = fit(value, column.width, column.align)
        segments += [pad, Segment(text, pre + _EMPHASIS[emphasis(column.name, value)] + post), pad]
    segments.append(_extension(columns, styles.base + component, row, width))
    return segments


def _extension(columns: Sequence[Column], style: Style, row: int, width: int) -> Segment:
    """The row's style carried on past the last column to the widget's right edge."""
    meta = Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
    return Segment(" " * max(0, width - table_width(columns)), style + meta)


@functools.lru_cache(maxsize=4096)
def _cell_meta(row: int, column: int) -> Style:
    # Which cell a segment belongs to, marked as Textual's tables mark it (the screen
    # export splits text at these marks, so the screen stays what it was as a DataTable).
    return Style.from_meta({"row": row, "column": column})
