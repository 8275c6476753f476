"""The icicle (flame) view: paints `layout_icicle` rows, owns a cursor, scrolls, zooms.

The widget renders the Snapshot it is given and nothing else. Where the cursor goes is
`IcicleGrid`'s business and what a row looks like is `icicle_paint`'s; this module keeps
the state that must survive the 4×/s refreshes: the cursor's frame path, whether the
shared frames are unfolded, and the scroll position.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from samplers.model import Frame
from samplers.tree.snapshot import Snapshot
from tui.render.icicle_grid import (
    IcicleGrid,
    Path,
    clamp_scroll,
    scroll_to_show,
    surviving_path,
)
from tui.render.icicle_layout import FoldState, IcicleCell, layout_icicle, zoom_prefix
from tui.render.icicle_paint import IcicleStyles, paint_icicle
from tui.widgets.repaint import repaint_changed_lines

# Rows laid out below the root: deeper than any stack Python allows by default, so the
# whole tree scrolls; the bound keeps a runaway recursion from costing the UI.
MAX_ROWS = 1200


class _IcicleMessage(Message):
    """Base of the Icicle's messages: `control` is the widget that sent it."""

    def __init__(self, icicle: Icicle | None = None) -> None:
        self.icicle = icicle
        super().__init__()

    @property
    def control(self) -> Icicle | None:
        return self.icicle


class Icicle(Widget, can_focus=True):
    """Merged call stacks, root at the top, widths proportional to samples."""

    BINDINGS = [
        # no h/l: `l` is the app's "lines" key, and one key has one meaning on the screen
        Binding("left", "move(-1)", "Previous frame", show=False),
        Binding("right", "move(1)", "Next frame", show=False),
        Binding("up,k", "go('parent')", "Caller", show=False),
        Binding("down,j", "go('child')", "Callee", show=False),
        Binding("pageup", "go('page_up')", "Page up", show=False),
        Binding("pagedown", "go('page_down')", "Page down", show=False),
        Binding("home", "go('root')", "Root", show=False),
        Binding("end", "go('hottest')", "Hottest leaf", show=False),
        Binding("z", "toggle_fold", "Fold shared frames", show=False),
        Binding("enter", "zoom_in", "Zoom in"),
        Binding("escape,backspace", "zoom_out", "Zoom out"),
    ]

    COMPONENT_CLASSES = {
        "icicle--cursor",
        "icicle--highlight",
        "icicle--status",
    }

    DEFAULT_CSS = """
    Icicle {
        height: 1fr;
        min-height: 4;
    }
    Icicle > .icicle--cursor {
        text-style: reverse;
    }
    Icicle:focus > .icicle--cursor {
        text-style: reverse bold;
    }
    Icicle > .icicle--highlight {
        text-style: bold underline;
    }
    Icicle > .icicle--status {
        text-style: dim;
    }
    Icicle:focus > .icicle--status {
        text-style: none;
    }
    """

    class ZoomIn(_IcicleMessage):
        """Zoom into the frame at `path` (absolute, from the real root "all")."""

        def __init__(self, path: Path, icicle: Icicle | None = None) -> None:
            self.path = path
            super().__init__(icicle)

    class ZoomOut(_IcicleMessage):
        """Zoom out by one level."""

    class FrameSelected(_IcicleMessage):
        """The cursor moved to `frame` (None: the root "all" or the fold of shared
        frames); `path` is absolute."""

        def __init__(
            self, frame: Frame | None, path: Path = (), icicle: Icicle | None = None
        ) -> None:
            self.frame = frame
            self.path = path
            super().__init__(icicle)

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._snapshot: Snapshot | None = None
        self._highlight: Frame | None = None
        self._cursor: Path = ()  # absolute path of the selected frame
        self._on_fold = False  # the cursor is on the fold row, not on its last frame
        self._fold_open = False
        self._scroll = 0  # first layout row on screen
        self._grid: IcicleGrid | None = None
        self._grid_key: object = None
        self._strips_key: object = None
        self._strips: list[Strip] = []
        self._styles: IcicleStyles | None = None  # read once per style change, not per paint

    # --- public -----------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def cursor_path(self) -> Path:
        """Absolute path of the frame the cursor is on, as the screen shows it."""
        grid, cell = self._current_grid(), self._cursor_cell()
        return self._cursor if grid is None or cell is None else grid.absolute(cell)

    def show(self, snapshot: Snapshot, highlight: Frame | None = None) -> None:
        """Render `snapshot`; emphasise every frame with `highlight`'s function and file.

        The cursor keeps its frame and, when it was on screen, its screen row."""
        anchor = self._cursor_screen_row()
        before = (self._cursor, self._cursor_on_fold())
        self._snapshot = snapshot
        self._highlight = highlight
        self._cursor = surviving_path(snapshot, self._cursor)
        self._settle_scroll(anchor)
        if (self._cursor, self._cursor_on_fold()) != before:
            self._post_selected()
        self._repaint_changed_lines()

    # --- handlers ---------------------------------------------------------------------

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._show_cursor()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(1)
        event.stop()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-1)
        event.stop()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        grid = self._current_grid()
        if offset is None or grid is None:
            return
        cell = grid.at(offset.y + self._scroll, offset.x)
        if cell is None:
            return
        again = cell is self._cursor_cell()
        self._select(cell)
        if event.chain >= 2 or again:
            self.action_zoom_in()

    def action_move(self, step: int) -> None:
        grid, cell = self._current_grid(), self._cursor_cell()
        if grid is None or cell is None:
            return
        if cell.is_fold:
            if step > 0:  # Right enters the fold: open it, onto its first frame
                self._set_fold(True)
                self.action_go("child")
            return
        self._select(grid.sibling(cell, step))

    def action_go(self, move: str) -> None:
        """Up/Down/Home/End/PageUp/PageDown: where `IcicleGrid.moved` says they lead."""
        grid, cell = self._current_grid(), self._cursor_cell()
        if grid is not None and cell is not None:
            self._select(grid.moved(cell, move, page=max(1, self._visible_rows() - 1)))

    def action_toggle_fold(self) -> None:
        self._set_fold(not self._fold_open)

    def action_zoom_in(self) -> None:
        cell = self._cursor_cell()
        if cell is None or cell.row == 0:
            return
        if cell.is_fold:
            self.action_toggle_fold()
            return
        self.post_message(self.ZoomIn(self.cursor_path, self))

    def action_zoom_out(self) -> None:
        if self._snapshot is not None and self._is_zoomed(self._snapshot):
            self.post_message(self.ZoomOut(self))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Let Escape/Backspace reach the app when there is nothing to zoom out of.
        if action == "zoom_out":
            return self._snapshot is not None and self._is_zoomed(self._snapshot)
        return True

    # --- rendering --------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        strips = self._current_strips()
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _current_strips(self) -> list[Strip]:
        width, height = self.size
        key = (
            None if self._snapshot is None else (self._snapshot.version, id(self._snapshot)),
            width,
            height,
            self._cursor,
            self._on_fold,
            self._fold_open,
            self._scroll,
            self._highlight,
            self.has_focus,
        )
        if key != self._strips_key:
            self._strips = self._render_strips(width, height)
            self._strips_key = key
        return self._strips

    def _repaint_changed_lines(self) -> None:
        """Refresh only the lines a new snapshot changed: at a steady load most of the
        icicle's cells keep their width from one snapshot to the next."""
        if not self.is_mounted:
            self.refresh()
            return
        before = self._strips if self._strips_key is not None else None
        repaint_changed_lines(self, before, self._current_strips(), layout=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # a theme, focus or CSS change: read the styles again
        self._strips_key = None

    def _current_styles(self) -> IcicleStyles:
        # reading component styles is most of a repaint's cost (5 times a second)
        if self._styles is None:
            self._styles = IcicleStyles(
                base=self.rich_style,
                cursor=self.get_component_rich_style("icicle--cursor", partial=True),
                highlight=self.get_component_rich_style("icicle--highlight", partial=True),
                status=self.get_component_rich_style("icicle--status", partial=True),
            )
        return self._styles

    def _render_strips(self, width: int, height: int) -> list[Strip]:
        styles = self._current_styles()
        grid = self._current_grid()
        if grid is not None:
            self._scroll = clamp_scroll(self._scroll, self._visible_rows(), len(grid.rows))
        return paint_icicle(
            self._snapshot,
            grid,
            styles,
            width=width,
            height=height,
            scroll=self._scroll,
            visible=self._visible_rows(),
            cursor=self._cursor_cell(),
            highlight=self._highlight,
        )

    # --- helpers ----------------------------------------------------------------------

    def _visible_rows(self) -> int:
        """Rows for the icicle itself: the height less the legend and status lines."""
        height = self.size.height
        snapshot = self._snapshot
        lines = 2 if snapshot is not None and snapshot.root.delta is not None else 1
        return max(0, height - min(lines, max(0, height - 1)))

    def _current_grid(self) -> IcicleGrid | None:
        """The layout for the current snapshot, width and fold, computed once per all three."""
        snapshot = self._snapshot
        if snapshot is None:
            return None
        width = self.size.width
        key = (snapshot.version, id(snapshot), width, self._fold_open)
        if self._grid is None or self._grid_key != key:
            fold: FoldState = "open" if self._fold_open else "closed"
            cells = layout_icicle(snapshot.root, width, MAX_ROWS, fold=fold)
            self._grid = IcicleGrid.of(cells, zoom_prefix(snapshot))
            self._grid_key = key
        return self._grid

    def _cursor_cell(self) -> IcicleCell | None:
        """The cell the cursor is on: its frame, or the deepest shown frame above it."""
        grid = self._current_grid()
        return None if grid is None else grid.locate(self._cursor, self._on_fold)

    def _cursor_screen_row(self) -> int | None:
        """The cursor's row on screen, None when it is scrolled out of view."""
        cell = self._cursor_cell()
        if cell is None or not 0 <= cell.row - self._scroll < self._visible_rows():
            return None
        return cell.row - self._scroll

    def _settle_scroll(self, anchor: int | None) -> None:
        """After a change of layout or size: the cursor on screen row `anchor` (or as
        near as the rows allow); with no anchor (it was scrolled away) the same top row."""
        grid, cell = self._current_grid(), self._cursor_cell()
        if grid is None or cell is None:
            return
        visible, rows = self._visible_rows(), len(grid.rows)
        if anchor is None:
            self._scroll = clamp_scroll(self._scroll, visible, rows)
        else:
            top = clamp_scroll(cell.row - anchor, visible, rows)
            self._scroll = scroll_to_show(top, cell.row, visible, rows)

    def _scroll_by(self, rows: int) -> None:
        grid = self._current_grid()
        if grid is not None:
            self._scroll = clamp_scroll(self._scroll + rows, self._visible_rows(), len(grid.rows))
            self.refresh()

    def _set_fold(self, is_open: bool) -> None:
        """Fold or unfold the shared frames; a cursor inside them goes to the fold row."""
        grid, cell = self._current_grid(), self._cursor_cell()
        if grid is None or grid.fold is None or cell is None or is_open == self._fold_open:
            return
        fold, anchor = grid.fold, self._cursor_screen_row()
        chain_rows = range(fold.row + 1, fold.row + 1 + len(fold.folded))
        inside = cell is fold or (fold.is_open and cell.row in chain_rows)
        self._fold_open = is_open
        grid = self._current_grid()
        if inside and grid is not None and grid.fold is not None:
            self._select(grid.fold)
        else:
            self._settle_scroll(anchor)  # what was under the cursor stays under it
            self.refresh()

    def _select(self, cell: IcicleCell | None) -> None:
        grid = self._current_grid()
        if cell is None or grid is None:
            return
        path = grid.absolute(cell)
        changed = (path, cell.is_fold) != (self._cursor, self._on_fold)
        self._cursor, self._on_fold = path, cell.is_fold
        self._show_cursor()
        if changed:
            self._post_selected()

    def _show_cursor(self) -> None:
        """Scroll as little as it takes to bring the cursor on screen."""
        grid, cell = self._current_grid(), self._cursor_cell()
        if grid is not None and cell is not None:
            rows, visible = len(grid.rows), self._visible_rows()
            self._scroll = scroll_to_show(self._scroll, cell.row, visible, rows)
        self.refresh()

    def _cursor_on_fold(self) -> bool:
        cell = self._cursor_cell()
        return cell is not None and cell.is_fold

    def _post_selected(self) -> None:
        frame = self._cursor[-1] if self._cursor else None
        if self._cursor_on_fold():
            frame = None  # the fold is many frames: the table keeps its selection
        self.post_message(self.FrameSelected(frame, self._cursor, self))

    @staticmethod
    def _is_zoomed(snapshot: Snapshot) -> bool:
        return bool(snapshot.view.zoom) or snapshot.root.frame is not None
