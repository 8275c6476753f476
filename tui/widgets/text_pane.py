"""A widget whose content is a few lines of Rich Text built from its state, painted line
by line and only where a line changed.

The header and the rails get new state with every batch (4–5 times a second) while what
they show changes far less often (the rates are rounded, the readings come once a
second). Painting is most of the live screen's own CPU: a `render()` widget goes through
Textual's rich-text-to-Content conversion and repaints every line at each refresh. Here a
state change builds the Text (cheap), turns each line into a Strip of Rich segments, and
refreshes only the lines that differ. Component styles are read once per style change."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.repaint import repaint_changed_lines


class TextPane(Widget):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._lines: list[Strip] | None = None
        self._lines_width = -1
        self._styles_read: dict[str, Style] = {}

    def build(self, width: int, height: int) -> Text:
        """The content for this state and size, lines split by newlines (subclasses)."""
        raise NotImplementedError

    def state_changed(self) -> None:
        """Call after the state changed: repaints the lines whose content differs (the
        whole pane, with a layout pass, when its line count or width changed)."""
        if not self.is_mounted:
            return
        before = self._lines if self._lines_width == self.size.width else None
        repaint_changed_lines(self, before, self._current_lines(rebuild=True), layout=True)

    @property
    def text(self) -> Text:
        """What the pane shows for its state and size, as one Text."""
        return self.build(max(1, self.size.width), max(1, self.size.height))

    def render_line(self, y: int) -> Strip:
        lines = self._current_lines()
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _current_lines(self, rebuild: bool = False) -> list[Strip]:
        width = max(1, self.size.width)
        if rebuild or self._lines is None or self._lines_width != width:
            text = self.build(width, max(1, self.size.height))
            base = self.rich_style
            console = self.app.console
            self._lines = [
                Strip(line.render(console))
                .apply_style(base)
                .adjust_cell_length(width, base)
                .simplify()
                for line in text.split("\n", allow_blank=True)
            ]
            self._lines_width = width
        return self._lines

    def on_resize(self, event: Resize) -> None:
        self._lines = None  # built again for the new size on the next paint

    def style_of(self, component: str) -> Style:
        style = self._styles_read.get(component)
        if style is None:
            style = self._styles_read[component] = self.get_component_rich_style(component)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_read.clear()  # a theme, focus or CSS change: read the styles again
        self._lines = None
