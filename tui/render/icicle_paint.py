"""Painting the icicle: layout rows to Strips, the legend and the status line.

No widget here: the Icicle hands over its resolved styles and the cursor, so what a
row looks like is decided in one place. Labels go into Segments as plain text, never
markup, because names come from the profiled process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from samplers.model import Frame
from samplers.tree.snapshot import Snapshot
from tui.render.icicle_grid import IcicleGrid
from tui.render.icicle_layout import IcicleCell, cell_text, printable, truncate
from tui.render.palette import legend, style_for_delta, style_for_frame


@dataclass(frozen=True, slots=True)
class IcicleStyles:
    """The widget's styles, resolved from its CSS component classes."""

    base: Style
    cursor: Style
    highlight: Style
    status: Style


def paint_icicle(
    snapshot: Snapshot | None,
    grid: IcicleGrid | None,
    styles: IcicleStyles,
    *,
    width: int,
    height: int,
    scroll: int,
    visible: int,
    cursor: IcicleCell | None,
    highlight: Frame | None,
) -> list[Strip]:
    """The whole widget: rows `scroll` to `scroll + visible`, then the footer lines."""
    base = styles.base
    if snapshot is None or snapshot.root.total <= 0 or grid is None:
        message = "waiting for samples…" if snapshot is None else "no samples in this window"
        return [text_strip(message, width, base)]
    where = rows_shown(scroll, visible, len(grid.rows))
    footer = footer_strips(snapshot, cursor, where, width, styles)
    footer = footer[-max(0, height - 1) :] if height > 1 else []
    by_delta = snapshot.root.delta is not None
    strips = [
        paint_row(row, width, styles, cursor=cursor, by_delta=by_delta, highlight=highlight)
        for row in grid.rows[scroll : scroll + visible]
    ]
    rows = max(0, height - len(footer))
    strips = strips[:rows]
    strips.extend(Strip.blank(width, base) for _ in range(rows - len(strips)))
    return strips + footer


def same_function(frame: Frame | None, mark: Frame | None) -> bool:
    """Whether `frame` is a call of `mark`'s function (any line), as the table selects."""
    return (
        mark is not None
        and frame is not None
        and frame.function == mark.function
        and frame.file == mark.file
    )


def paint_row(
    row: Sequence[IcicleCell],
    width: int,
    styles: IcicleStyles,
    *,
    cursor: IcicleCell | None,
    by_delta: bool,
    highlight: Frame | None,
) -> Strip:
    """One row of cells, gaps filled with the base style, `width` cells in all."""
    base = styles.base
    segments: list[Segment] = []
    x = 0
    for cell in row:
        if cell.x > x:
            segments.append(Segment(" " * (cell.x - x), base))
        if by_delta:
            colour = style_for_delta(cell.delta)
        else:
            # A fold is no one frame: it takes the root's neutral colour.
            colour = style_for_frame(None if cell.is_fold else cell.frame)
        style = base + colour
        frames = cell.folded or (cell.frame,)
        if any(same_function(frame, highlight) for frame in frames):
            style += styles.highlight
        if cell is cursor:
            style += styles.cursor
        segments.append(Segment(cell_text(cell), style))
        x = cell.end
    if x < width:
        segments.append(Segment(" " * (width - x), base))
    return Strip(segments, width)


def footer_strips(
    snapshot: Snapshot, cursor: IcicleCell | None, where: str, width: int, styles: IcicleStyles
) -> list[Strip]:
    """The legend (with a baseline), then the status line: the cursor's frame on the
    left, `where` (which rows are on screen) on the right."""
    base = styles.base
    footer: list[Strip] = []
    if snapshot.root.delta is not None:
        segments = [Segment("Δ vs baseline ", base)]
        segments += [Segment(text, base + style) for text, style in legend()]
        footer.append(Strip(segments).crop_extend(0, width, base))
    status = base + styles.status
    text = status_text(snapshot, cursor)
    if where and len(where) + 2 < width:
        left = truncate(printable(text), width - len(where) - 1)
        pad = width - cell_len(left) - len(where)
        line = Strip([Segment(left + " " * pad + where, status)])
        footer.append(line.crop_extend(0, width, status))
    else:
        footer.append(text_strip(text, width, status))
    return footer


def status_text(snapshot: Snapshot, cell: IcicleCell | None) -> str:
    """What the cursor is on: name, samples, share of the window, own share, Δ."""
    if cell is None:
        return ""
    whole = snapshot.total_samples or snapshot.root.total
    share = 100.0 * cell.total / whole if whole else 0.0
    if cell.is_fold:
        name = f"{len(cell.folded)} shared frames"  # the row itself names the ends
    else:
        frame = cell.frame
        name = "all" if frame is None else printable(frame.label())
    parts = [name, f"{cell.total:,} samples", f"{share:.1f}% of total"]
    if cell.own:
        parts.append(f"own {100.0 * cell.own / whole if whole else 0.0:.1f}%")
    if cell.delta is not None:
        parts.append(f"Δ {cell.delta:+.1f} pt")
    if cell.is_fold:
        parts.append("z: fold" if cell.is_open else "z: unfold")
    return " · ".join(parts)


def rows_shown(scroll: int, visible: int, rows: int) -> str:
    """ "rows 4–11 of 40" when the icicle is taller than the screen, else ""."""
    if rows <= visible or visible <= 0:
        return ""
    return f"rows {scroll + 1}–{min(rows, scroll + visible)} of {rows}"


def text_strip(text: str, width: int, style: Style) -> Strip:
    return Strip([Segment(truncate(printable(text), width), style)]).extend_cell_length(
        width, style
    )
