"""The icicle (flame) view: paints `layout_icicle` cells, owns a cursor, zooms by message.

The widget renders the Snapshot it is given and nothing else. Labels are printable text
placed in Segments, never markup, because names come from the profiled process.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from samplers.model import Frame
from samplers.tree.snapshot import Snapshot
from tui.render.icicle_layout import (
    IcicleCell,
    cell_text,
    layout_icicle,
    printable,
    truncate,
    zoom_prefix,
)
from tui.render.palette import legend, style_for_delta, style_for_frame

Path = tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class _Layout:
    """One computed layout and the lookups navigation needs."""

    key: tuple[int, int, int]
    prefix: Path  # absolute path above the layout root (the zoom)
    rows: tuple[tuple[IcicleCell, ...], ...]
    by_path: dict[Path, IcicleCell]  # absolute path -> cell


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
        Binding("up,k", "parent", "Caller", show=False),
        Binding("down,j", "child", "Callee", show=False),
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
        """The cursor moved to `frame` (None: the root "all"); `path` is absolute."""

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
        self._layout: _Layout | None = None
        self._strips_key: object = None
        self._strips: list[Strip] = []

    # --- public -----------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def cursor_path(self) -> Path:
        """Absolute path of the frame the cursor is on, as the screen shows it."""
        cell = self._cursor_cell()
        return self._cursor if cell is None else self._absolute(cell)

    def show(self, snapshot: Snapshot, highlight: Frame | None = None) -> None:
        """Render `snapshot`; emphasise every frame with `highlight`'s function and file."""
        self._snapshot = snapshot
        self._highlight = highlight
        before = self._cursor
        self._cursor = self._surviving_cursor(snapshot, before)
        if self._cursor != before:
            self._post_selected()
        self.refresh()

    # --- handlers ---------------------------------------------------------------------

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        cell = self._cell_at(offset.x, offset.y)
        if cell is None:
            return
        path = self._absolute(cell)
        if event.chain >= 2 or path == self.cursor_path:
            self._cursor = path
            self.action_zoom_in()
        else:
            self._select(path)

    def action_move(self, step: int) -> None:
        layout, cell = self._current_layout(), self._cursor_cell()
        if layout is None or cell is None:
            return
        row = layout.rows[cell.row]
        index = row.index(cell) + step
        if 0 <= index < len(row):
            self._select(self._absolute(row[index]))

    def action_parent(self) -> None:
        cell = self._cursor_cell()
        if cell is not None and cell.row > 0:
            self._select(self._absolute(cell)[:-1])

    def action_child(self) -> None:
        layout, cell = self._current_layout(), self._cursor_cell()
        if layout is None or cell is None or cell.row + 1 >= len(layout.rows):
            return
        for child in layout.rows[cell.row + 1]:
            if child.path[:-1] == cell.path:
                self._select(self._absolute(child))
                return

    def action_zoom_in(self) -> None:
        cell = self._cursor_cell()
        if cell is None or cell.row == 0:
            return
        self.post_message(self.ZoomIn(self._absolute(cell), self))

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
        width, height = self.size
        key = (
            None if self._snapshot is None else self._snapshot.version,
            width,
            height,
            self._cursor,
            self._highlight,
            self.has_focus,
        )
        if key != self._strips_key:
            self._strips = self._render_strips(width, height)
            self._strips_key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def _render_strips(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        snapshot = self._snapshot
        if snapshot is None or snapshot.root.total <= 0:
            message = "waiting for samples…" if snapshot is None else "no samples in this window"
            return [_text_strip(message, width, base)]
        footer = self._footer_strips(snapshot, width, base)
        footer = footer[-max(0, height - 1) :] if height > 1 else []
        layout = self._current_layout()
        strips: list[Strip] = []
        if layout is not None:
            cursor = self._cursor_cell()
            cursor_style = self.get_component_rich_style("icicle--cursor", partial=True)
            mark_style = self.get_component_rich_style("icicle--highlight", partial=True)
            by_delta = snapshot.root.delta is not None
            for row in layout.rows:
                segments: list[Segment] = []
                x = 0
                for cell in row:
                    if cell.x > x:
                        segments.append(Segment(" " * (cell.x - x), base))
                    style = base + (
                        style_for_delta(cell.delta) if by_delta else style_for_frame(cell.frame)
                    )
                    if self._is_highlighted(cell.frame):
                        style += mark_style
                    if cell is cursor:
                        style += cursor_style
                    segments.append(Segment(cell_text(cell), style))
                    x = cell.end
                if x < width:
                    segments.append(Segment(" " * (width - x), base))
                strips.append(Strip(segments, width))
        rows = max(0, height - len(footer))
        strips = strips[:rows]
        strips.extend(Strip.blank(width, base) for _ in range(rows - len(strips)))
        return strips + footer

    def _footer_strips(self, snapshot: Snapshot, width: int, base: Style) -> list[Strip]:
        """The legend (with a baseline) and the status line describing the cursor."""
        footer: list[Strip] = []
        if snapshot.root.delta is not None:
            segments = [Segment("Δ vs baseline ", base)]
            segments += [Segment(text, base + style) for text, style in legend()]
            footer.append(Strip(segments).crop_extend(0, width, base))
        status_style = base + self.get_component_rich_style("icicle--status", partial=True)
        footer.append(_text_strip(self._status_text(snapshot), width, status_style))
        return footer

    def _status_text(self, snapshot: Snapshot) -> str:
        cell = self._cursor_cell()
        if cell is None:
            return ""
        frame = cell.frame
        name = "all" if frame is None else printable(frame.label())
        whole = snapshot.total_samples or snapshot.root.total
        share = 100.0 * cell.total / whole if whole else 0.0
        parts = [name, f"{cell.total:,} samples", f"{share:.1f}% of total"]
        if cell.own:
            parts.append(f"own {100.0 * cell.own / whole if whole else 0.0:.1f}%")
        if cell.delta is not None:
            parts.append(f"Δ {cell.delta:+.1f} pt")
        return " · ".join(parts)

    # --- helpers ----------------------------------------------------------------------

    def _footer_height(self, snapshot: Snapshot, height: int) -> int:
        lines = 2 if snapshot.root.delta is not None else 1
        return min(lines, max(0, height - 1))

    def _current_layout(self) -> _Layout | None:
        """The layout for the current snapshot and size, computed once per both."""
        snapshot = self._snapshot
        if snapshot is None:
            return None
        width, height = self.size
        rows = height - self._footer_height(snapshot, height)
        key = (snapshot.version, width, rows)
        if self._layout is not None and self._layout.key == key:
            return self._layout
        cells = layout_icicle(snapshot.root, width, rows)
        prefix = zoom_prefix(snapshot)
        grouped: list[list[IcicleCell]] = []
        for cell in cells:
            if cell.row == len(grouped):
                grouped.append([])
            grouped[cell.row].append(cell)
        self._layout = _Layout(
            key=key,
            prefix=prefix,
            rows=tuple(tuple(row) for row in grouped),
            by_path={prefix + cell.path: cell for cell in cells},
        )
        return self._layout

    def _cursor_cell(self) -> IcicleCell | None:
        """The deepest visible cell on the cursor's path (the cursor when it is visible)."""
        layout = self._current_layout()
        if layout is None:
            return None
        for depth in range(len(self._cursor), -1, -1):
            cell = layout.by_path.get(self._cursor[:depth])
            if cell is not None:
                return cell
        return layout.rows[0][0] if layout.rows else None

    def _cell_at(self, x: int, y: int) -> IcicleCell | None:
        layout = self._current_layout()
        if layout is None or not 0 <= y < len(layout.rows):
            return None
        for cell in layout.rows[y]:
            if cell.x <= x < cell.end:
                return cell
        return None

    def _absolute(self, cell: IcicleCell) -> Path:
        layout = self._current_layout()
        prefix = () if layout is None else layout.prefix
        return prefix + cell.path

    def _select(self, path: Path) -> None:
        if path != self._cursor:
            self._cursor = path
            self.refresh()
            self._post_selected()

    def _post_selected(self) -> None:
        frame = self._cursor[-1] if self._cursor else None
        self.post_message(self.FrameSelected(frame, self._cursor, self))

    def _is_highlighted(self, frame: Frame | None) -> bool:
        mark = self._highlight
        return (
            mark is not None
            and frame is not None
            and frame.function == mark.function
            and frame.file == mark.file
        )

    def _surviving_cursor(self, snapshot: Snapshot, cursor: Path) -> Path:
        """`cursor`, or its deepest ancestor present in `snapshot`'s tree."""
        prefix = zoom_prefix(snapshot)
        root_path = prefix + (() if snapshot.root.frame is None else (snapshot.root.frame,))
        if cursor[: len(root_path)] != root_path:
            # Outside the zoomed subtree (or above it): back to the shown root.
            return root_path
        node = snapshot.root
        depth = len(root_path)
        while depth < len(cursor):
            child = next((c for c in node.children if c.frame == cursor[depth]), None)
            if child is None:
                break
            node, depth = child, depth + 1
        return cursor[:depth]

    @staticmethod
    def _is_zoomed(snapshot: Snapshot) -> bool:
        return bool(snapshot.view.zoom) or snapshot.root.frame is not None


def _text_strip(text: str, width: int, style: Style) -> Strip:
    return Strip([Segment(truncate(printable(text), width), style)]).extend_cell_length(
        width, style
    )
