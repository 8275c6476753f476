"""Refresh only the lines of a Line-API widget that a new paint changed: Textual repaints
every line of a widget on a plain refresh, which at 5 snapshots a second is most of the
live screen's own CPU while most lines stay as they were."""

from __future__ import annotations

from collections.abc import Sequence

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


def repaint_changed_lines(
    widget: Widget, before: Sequence[Strip] | None, after: Sequence[Strip], *, layout: bool
) -> None:
    """Refresh the lines where `after` differs from `before`; with nothing to compare
    (`before` None or of another length) the whole widget, reflowing the screen when
    `layout` (the widget's height follows its lines)."""
    if before is None or len(before) != len(after):
        widget.refresh(layout=layout)
        return
    width = widget.size.width
    for y, (now, was) in enumerate(zip(after, before, strict=True)):
        if now != was:
            widget.refresh(Region(0, y, width, 1))
