"""The top-functions table: one row per function of the snapshot, updated row by row by
key so the cursor and the scroll position survive every refresh."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from samplers.model import Frame
from samplers.tree.snapshot import FunctionStat, Snapshot
from tui.render.safe_text import clean
from tui.render.sparkline import human_seconds, sparkline

SortKey = Literal["own", "total", "own_s", "total_s"]
SORT_KEYS: tuple[SortKey, ...] = ("own", "total", "own_s", "total_s")
LINES_KEPT = 2000  # rendered body lines kept for reuse (a few screens' worth of states)
MAX_ROWS = 100  # more than any screen shows; the tree sends up to 150 by own and by total
_NAVIGATION_KEYS = frozenset(
    {"up", "down", "j", "k", "pageup", "pagedown", "home", "end", "g", "G"}
)
FUNC_W_MAX = 90
HISTORY_W_MAX = 40

_SORT_VALUE: dict[SortKey, Callable[[FunctionStat], float]] = {
    "own": lambda f: f.own,
    "total": lambda f: f.total,
    "own_s": lambda f: f.own_seconds,
    "total_s": lambda f: f.total_seconds,
}
# column key, label, width (the function column takes what is left)
_NUMERIC = (("own", "%Own", 6), ("total", "%Total", 6), ("own_s", "OwnTime", 7))
_TOTAL_S = ("total_s", "TotalTime", 9)
_DELTA = ("delta", "Δ%Total", 7)


class TopTable(DataTable[Text]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    sort_by: reactive[SortKey] = reactive[SortKey]("own", init=False)

    class FunctionHighlighted(Message):
        """The cursor moved to a function's row (None: the table is empty)."""

        def __init__(self, frame: Frame | None) -> None:
            super().__init__()
            self.frame = frame

    class SortChanged(Message):
        def __init__(self, sort_by: SortKey) -> None:
            super().__init__()
            self.sort_by = sort_by

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._snapshot: Snapshot | None = None
        self._frames: list[Frame] = []  # the function in each row, top first
        self._plain: list[tuple[str, ...]] = []  # each row's cell texts, to skip unchanged
        self._column_names: list[str] = []  # column keys, left to right
        self._column_keys: list[ColumnKey] = []
        self._lines: dict[tuple[object, ...], Strip] = {}  # see _render_line
        # cell texts per function of the snapshot shown, so a new sort only reorders
        self._texts: dict[Frame, tuple[str, ...]] = {}
        self._with_delta = False
        self._by_line = False
        self._layout_key: tuple[object, ...] = ()
        self._pending_select: Frame | None = None
        # Until the user moves the cursor it stays on the top row as rows reorder; after
        # that it follows the function they chose.
        self._follow_selection = False

    def on_mount(self) -> None:
        self._rebuild_columns()

    @on(events.Key)
    def _key(self, event: events.Key) -> None:
        if event.key in _NAVIGATION_KEYS:
            self._follow_selection = True

    @on(events.Click)
    def _click(self, event: events.Click) -> None:
        self._follow_selection = True

    @on(Resize)
    def _resized(self, event: Resize) -> None:
        self._refresh_rows(force_columns=True)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.post_message(self.FunctionHighlighted(self.selected_frame))

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key in SORT_KEYS:
            self.sort_by = key  # type: ignore[assignment]
            self.post_message(self.SortChanged(self.sort_by))

    def watch_sort_by(self) -> None:
        # Only the header arrow and the cells change: relabel in place, keep the rows.
        for key, label, _ in self._columns():
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.label = self._label(key, label)
        self._update_count += 1  # DataTable's render caches are keyed on it
        self.refresh()
        self._refresh_rows(force_columns=True)

    # -- public -------------------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        """Render `snapshot`; rows are matched by function so the cursor stays put."""
        self._snapshot = snapshot
        self._texts.clear()
        self._refresh_rows()

    @property
    def selected_frame(self) -> Frame | None:
        row = self.cursor_row
        return self._frames[row] if 0 <= row < len(self._frames) else None

    def select_frame(self, frame: Frame) -> bool:
        """Move the cursor to `frame`'s row; False when it is not in the table."""
        if frame not in self._frames:
            return False
        self._follow_selection = True
        self.move_cursor(row=self._frames.index(frame))
        return True

    # -- helpers ------------------------------------------------------------------------

    def _columns(self) -> list[tuple[str, str, int]]:
        width = self.size.width or 80
        cols: list[tuple[str, str, int]] = list(_NUMERIC)
        if width >= 70:
            cols.append(_TOTAL_S)
        if self._with_delta:
            cols.append(_DELTA)
        fixed = sum(w + 2 for _, _, w in cols) + 2 + 2 + 2  # cell padding, scrollbar
        # Names get up to FUNC_W_MAX cells; the history takes what is left, within bounds.
        history_w = max(8, min(HISTORY_W_MAX, width - fixed - FUNC_W_MAX - 2))
        func_w = max(16, width - fixed - history_w - 2)
        label = "Function (file:line)" if self._by_line else "Function (file)"
        cols.append(("function", label, func_w))
        cols.append(("history", "history", history_w))
        return cols

    def _rebuild_columns(self) -> None:
        selected = self.selected_frame
        self.clear(columns=True)
        self._frames.clear()
        self._plain.clear()
        self._texts.clear()
        for key, label, width in self._columns():
            self.add_column(self._label(key, label), width=width, key=key)
        self._column_keys = [c.key for c in self.ordered_columns]
        self._column_names = [str(k.value) for k in self._column_keys]
        self._layout_key = self._current_layout_key()
        if selected is not None and self._follow_selection:
            self._pending_select = selected

    def _label(self, key: str, label: str) -> Text:
        text = Text(label, justify="left" if key in ("function", "history") else "right")
        if key == self.sort_by:
            text.append(" ▼")
        return text

    def _current_layout_key(self) -> tuple[object, ...]:
        return (self.size.width, self._with_delta, self._by_line)

    def _refresh_rows(self, force_columns: bool = False) -> None:
        snap = self._snapshot
        with_delta = snap is not None and snap.view.baseline is not None
        by_line = snap is not None and snap.view.by_line
        selected = self.selected_frame
        if (with_delta, by_line) != (self._with_delta, self._by_line):
            self._with_delta, self._by_line = with_delta, by_line
            force_columns = True
        if force_columns and self._current_layout_key() != self._layout_key:
            self._rebuild_columns()
        if snap is None:
            return
        stats = sorted(snap.functions, key=_SORT_VALUE[self.sort_by], reverse=True)[:MAX_ROWS]
        columns = self._column_names
        history_w = self._history_width()
        # Rows are rank slots ("r0", "r1", ...): an update rewrites only the cells that
        # changed, and rows are added or dropped only at the end, so the scroll position
        # holds and a refresh costs little however much the order churns.
        changed = False
        for rank, stat in enumerate(stats):
            key = f"r{rank}"
            plain = self._texts.get(stat.key)
            if plain is None:
                plain = self._texts[stat.key] = self._cells(stat, snap, columns, history_w)
            if rank >= len(self._plain):
                self._frames.append(stat.key)
                self._plain.append(plain)
                self.add_row(
                    *(self._styled(c, v) for c, v in zip(columns, plain, strict=True)), key=key
                )
                continue
            self._frames[rank] = stat.key
            old, self._plain[rank] = self._plain[rank], plain
            if old != plain:
                row = self._data[RowKey(key)]
                for col, before, after in zip(self._column_keys, old, plain, strict=True):
                    if before != after:
                        row[col] = self._styled(col.value, after)
                changed = True
        if changed:
            # One repaint for all the changed cells: DataTable.update_cell would ask for
            # one per cell (hundreds when the order churns).
            self._update_count += 1
            self.refresh()
        while len(self._plain) > len(stats):
            self._plain.pop()
            self._frames.pop()
            self.remove_row(f"r{len(self._plain)}")
        target = self._pending_select or (selected if self._follow_selection else None)
        self._pending_select = None
        if target is not None and target in self._frames:
            rank = self._frames.index(target)
            if self.cursor_row != rank:
                self.move_cursor(row=rank, animate=False)
        if self.selected_frame != selected:
            self.post_message(self.FunctionHighlighted(self.selected_frame))

    def _cells(
        self, stat: FunctionStat, snap: Snapshot, columns: list[str], history_w: int
    ) -> tuple[str, ...]:
        total = max(1, snap.total_samples)
        values: dict[str, str] = {
            "own": f"{stat.own * 100 / total:5.1f}",
            "total": f"{min(100.0, stat.total * 100 / total):5.1f}",
            "own_s": human_seconds(stat.own_seconds),
            "total_s": human_seconds(stat.total_seconds),
            "delta": "" if stat.delta_total is None else f"{stat.delta_total:+.1f}",
            "function": clean(stat.key.label(with_line=snap.view.by_line or bool(stat.key.line))),
            "history": sparkline(stat.history, history_w, low=0.0, high=1.0),
        }
        return tuple(values[c] for c in columns)

    def _history_width(self) -> int:
        for c in self.columns.values():
            if c.key.value == "history":
                return c.width
        return 8

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def _styled(column: str, value: str) -> Text:
        # Cached: a re-sort or refresh brings back the same texts, and DataTable never
        # changes a cell's Text in place (it renders copies).
        if column in ("function", "history"):
            return Text(value, no_wrap=True, overflow="ellipsis")
        return Text(value, justify="right", style=_value_style(column, value), no_wrap=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # a theme or CSS change: styles are not in the line keys

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A body line, reused while its texts, rank, cursor and hover state stay the
        same. DataTable's own line cache is emptied by any change anywhere (every
        refresh, every cursor move); here a new snapshot repaints the rows whose texts
        changed and a cursor move repaints two rows."""
        try:
            row_key, line = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        rank = self._row_locations.get(row_key)
        if (
            line != 0
            or rank is None
            or not 0 <= rank < len(self._plain)
            or self.cursor_type != "row"
        ):
            return super()._render_line(y, x1, x2, base_style)
        show_hover = self._show_hover_cursor
        key = (
            y,
            x1,
            x2,
            rank,
            self._plain[rank],
            self._layout_key,
            base_style,
            self._pseudo_class_state,
            self.show_cursor,
            show_hover,
            self.cursor_coordinate.row == rank,
            show_hover and self.hover_coordinate.row == rank,
        )
        strip = self._lines.get(key)
        if strip is None:
            if len(self._lines) > LINES_KEPT:
                self._lines.clear()
            strip = self._lines[key] = super()._render_line(y, x1, x2, base_style)
        return strip

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A body cell straight from its text: the same cells DataTable draws through
        Rich's Padding/Text/Styled pipeline, at a small fraction of the cost (that
        pipeline was most of a table repaint). Headers and anything unusual take the
        stock path."""
        if not (0 <= row_index < len(self._plain) and 0 <= column_index < len(self._column_names)):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if self.fixed_rows or self.fixed_columns or self.cell_padding < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column = self._column_names[column_index]
        value = self._plain[row_index][column_index]
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre += component
        padding = self.cell_padding
        content_w = max(0, width - 2 * padding)
        text_style = _VALUE_STYLES[_value_style(column, value)]
        segments = [Segment(_fit(value, content_w, column), pre + text_style + post)]
        if padding:
            pad = Segment(" " * padding, pre + post)
            segments = [pad, *segments, pad]
        return [segments]


_VALUE_STYLES = {"": Style.null(), "bold": Style.parse("bold"), "italic": Style.parse("italic")}


def _value_style(column: str, value: str) -> str:
    """The Rich style `TopTable._styled` gives a cell (kept in step with it)."""
    if column == "delta" and value:
        return "bold" if value.startswith("+") else "italic"
    return ""


def _fit(value: str, width: int, column: str) -> str:
    """`value` as Rich lays out the cell's Text at `width` cells, no wrapping: names and
    sparklines are left-aligned and end in an ellipsis when cut, numbers right-aligned."""
    if width <= 0:
        return ""
    if column in ("function", "history"):
        if cell_len(value) > width:
            value = set_cell_size(value, width - 1) + "…"
        return value + " " * (width - cell_len(value))
    value = value.rstrip()
    if cell_len(value) > width:
        value = set_cell_size(value, width)
    return " " * (width - cell_len(value)) + value
