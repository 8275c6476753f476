"""The top-functions table: one row per function of the snapshot, painted line by line
(Textual's Line API) from `tui.render.top_rows`, with a header that stays put.

Rows are rank slots: a new snapshot gives each rank its new texts and only lines whose
texts changed are painted again, while the cursor and the scroll position stay; until
the user moves the cursor it stays on the top row, after that it follows the function
they chose. Only Textual's public API is used (a test checks), so a Textual release that
keeps its public API keeps this table working.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from samplers.model import Frame
from samplers.tree.snapshot import Snapshot
from tui.render.top_rows import (
    SORT_KEYS,
    Column,
    SortKey,
    TableStyles,
    cell_values,
    column_at,
    header_line,
    layout_columns,
    ranked,
    row_line,
    table_width,
)

LINES_KEPT = 2000  # painted body lines kept for reuse (a few screens' worth of states)


@dataclass(frozen=True, slots=True)
class ColumnKey:
    """A column's key, shaped like DataTable's (`.value`) for the callers that read it."""

    value: str


@dataclass(frozen=True, slots=True)
class TableRow:
    """A row slot: `key` names it for `get_cell`, `frame` is the function shown in it."""

    key: str
    frame: Frame


class TopTable(ScrollView, can_focus=True):
    """The hottest functions of the snapshot shown, sortable, with a row cursor."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home,ctrl+home,g", "cursor_first", "Top", show=False),
        Binding("end,ctrl+end,G", "cursor_last", "Bottom", show=False),
    ]

    COMPONENT_CLASSES = {
        "top-table--header",
        "top-table--header-hover",
        "top-table--cursor",
        "top-table--hover",
    }

    # The look DataTable gives a table, so the screen is the same as when this was one.
    DEFAULT_CSS = """
    TopTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .top-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .top-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .top-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .top-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .top-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .top-table--header-hover {
            background: $accent 30%;
        }
        & > .top-table--hover {
            background: $block-hover-background;
        }
    }
    """

    sort_by: reactive[SortKey] = reactive[SortKey]("own", init=False)

    class FunctionHighlighted(Message):
        """The cursor moved to a function's row (None: the table is empty)."""

        def __init__(self, frame: Frame | None) -> None:
            super().__init__()
            self.frame = frame

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._snapshot: Snapshot | None = None
        self._columns: tuple[Column, ...] = ()
        self._frames: list[Frame] = []  # the function in each row, top first
        self._rows: list[tuple[str, ...]] = []  # each row's cell texts
        # cell texts per function of the snapshot shown, so a new sort only reorders
        self._texts: dict[Frame, tuple[str, ...]] = {}
        self._cursor = 0
        self._hover: int | None = None  # row under the mouse, -1 the header
        self._announced: Frame | None = None
        self._follow_selection = False
        self._paint: TableStyles | None = None  # the styles of the paint under way
        self._paint_seen: TableStyles | None = None  # the styles the cached lines were made with
        self._lines: dict[tuple[object, ...], Strip] = {}

    # -- handlers -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self._refresh_rows()

    def on_resize(self, event: events.Resize) -> None:
        self._refresh_rows()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        self._follow_selection = True
        if offset.y == 0:
            column = column_at(self._columns, offset.x + round(self.scroll_x))
            if column is not None and column.name in SORT_KEYS:
                self.sort_by = column.name
            return
        row = self._row_at(offset.y)
        if row is not None and 0 <= row < len(self._rows):
            self.move_cursor(row=row)
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        offset = event.get_content_offset(self)
        self._set_hover(None if offset is None else self._row_at(offset.y))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def watch_sort_by(self) -> None:
        self._refresh_rows()

    def action_cursor_up(self) -> None:
        self._keyboard_move(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._keyboard_move(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        page = self._page_height()
        self.scroll_relative(y=-page, animate=False)
        self._keyboard_move(self._cursor - page, scroll=False)

    def action_cursor_page_down(self) -> None:
        page = self._page_height()
        self.scroll_relative(y=page, animate=False, force=True)
        self._keyboard_move(self._cursor + page, scroll=False)

    def action_cursor_first(self) -> None:
        self._keyboard_move(0)

    def action_cursor_last(self) -> None:
        self._keyboard_move(len(self._rows) - 1)

    # -- public -------------------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        """Render `snapshot`; rows are matched by function so the cursor stays put."""
        self._snapshot = snapshot
        self._texts.clear()
        self._refresh_rows()

    @property
    def selected_frame(self) -> Frame | None:
        row = self._cursor
        return self._frames[row] if 0 <= row < len(self._frames) else None

    def select_frame(self, frame: Frame) -> bool:
        """Move the cursor to `frame`'s row; False when it is not in the table."""
        if frame not in self._frames:
            return False
        self._follow_selection = True
        self.move_cursor(row=self._frames.index(frame))
        return True

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on `row` (clamped to the table), scrolled into view."""
        row = max(0, min(row, len(self._rows) - 1))
        if row != self._cursor:
            self._cursor = row
            self.refresh()
        if scroll:
            self._scroll_to_cursor(animate)
        self._announce()

    @property
    def columns(self) -> dict[ColumnKey, Column]:
        """The columns left to right, keyed as DataTable keys them."""
        return {ColumnKey(c.name): c for c in self._columns}

    @property
    def ordered_rows(self) -> tuple[TableRow, ...]:
        return tuple(TableRow(f"r{i}", frame) for i, frame in enumerate(self._frames))

    def get_cell(self, row_key: str, column: str) -> str:
        """The text of one cell, unpadded: `row_key` from `ordered_rows`."""
        names = [c.name for c in self._columns]
        return self._rows[int(row_key.removeprefix("r"))][names.index(column)]

    # -- rows ---------------------------------------------------------------------------

    def _refresh_rows(self) -> None:
        snap = self._snapshot
        columns = layout_columns(
            self.size.width,
            sort_by=self.sort_by,
            with_delta=snap is not None and snap.view.baseline is not None,
            by_line=snap is not None and snap.view.by_line,
        )
        if columns != self._columns:
            if [(c.name, c.width) for c in columns] != [(c.name, c.width) for c in self._columns]:
                # new widths; a new sort marker alone keeps the texts and the body lines
                self._texts.clear()
                self._lines.clear()
            self._columns = columns
            self.refresh()
        selected = self.selected_frame
        stats = [] if snap is None else ranked(snap, self.sort_by)
        rows: list[tuple[str, ...]] = []
        for stat in stats:
            texts = self._texts.get(stat.key)
            if texts is None and snap is not None:
                texts = self._texts[stat.key] = cell_values(stat, snap, columns)
            rows.append(texts or ())
        if len(rows) != len(self._rows):
            self.refresh()
        else:  # repaint only the rows whose texts changed: most stay put between snapshots
            for rank, (now, before) in enumerate(zip(rows, self._rows, strict=True)):
                if now != before:
                    self.refresh_line(1 + rank)  # line 0 is the header
        self._rows = rows
        self._frames = [stat.key for stat in stats]
        self.virtual_size = Size(table_width(columns), 1 + len(rows))
        cursor = max(0, min(self._cursor, len(rows) - 1))
        if self._follow_selection and selected in self._frames:
            cursor = self._frames.index(selected)
        self.move_cursor(row=cursor, scroll=cursor != self._cursor)

    def _announce(self) -> None:
        frame = self.selected_frame
        if frame != self._announced:
            self._announced = frame
            self.post_message(self.FunctionHighlighted(frame))

    def _keyboard_move(self, row: int, scroll: bool = True) -> None:
        self._follow_selection = True
        self._set_hover(None)
        self.move_cursor(row=row, scroll=scroll)

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self, animate: bool) -> None:
        top = round(self.scroll_y)
        page = self._page_height()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=animate, force=True)
        elif self._cursor >= top + page:
            self.scroll_to(y=self._cursor - page + 1, animate=animate, force=True)

    def _row_at(self, y: int) -> int | None:
        """The row at widget line `y`: -1 for the header, None below the rows."""
        if y == 0:
            return -1
        row = y - 1 + round(self.scroll_y)
        return row if row < len(self._rows) else None

    def _set_hover(self, row: int | None) -> None:
        if row != self._hover:
            self._hover = row
            self.refresh()

    # -- painting -----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._paint = None  # a theme, focus or CSS change: read the styles again

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._paint is None:  # read once per style change: it is most of a repaint
            self._paint = self._current_paint()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        styles = self._paint or self._current_paint()
        width = self.size.width
        scroll_x = round(self.scroll_x)
        rank = -1 if y == 0 else y - 1 + round(self.scroll_y)  # -1: the header
        if rank >= len(self._rows):
            return Strip.blank(width, styles.base)
        # a row is keyed on its texts, the header on its labels (the sort marker moves)
        values = self._rows[rank] if rank >= 0 else tuple(c.label for c in self._columns)
        cursor, hover = rank == self._cursor, self._hover == rank
        key = (rank, values, cursor, hover, width, scroll_x)
        strip = self._lines.get(key)
        if strip is None:
            if len(self._lines) > LINES_KEPT:
                self._lines.clear()
            if rank < 0:
                line = header_line(self._columns, styles, hover=hover, width=width)
            else:
                line = row_line(
                    self._columns, values, rank, styles, cursor=cursor, hover=hover, width=width
                )
            strip = Strip(line).crop(scroll_x, scroll_x + width)
            strip = self._lines[key] = strip.adjust_cell_length(width, styles.base).simplify()
        return strip

    def _current_paint(self) -> TableStyles:
        styles = TableStyles(
            base=self.rich_style,
            header=self.get_component_styles("top-table--header").rich_style,
            cursor=self.get_component_rich_style("top-table--cursor"),
            hover=self.get_component_rich_style("top-table--hover"),
            header_hover=self.get_component_rich_style("top-table--header-hover"),
        )
        if styles != self._paint_seen:
            self._paint_seen = styles  # the cached lines were painted in other styles
            self._lines.clear()
        return styles
