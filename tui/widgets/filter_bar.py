"""The `/` filter input: substring or regex over function and file names."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    BINDINGS = [
        Binding("escape", "clear_filter", "clear", show=False),
    ]

    class Cleared(Message):
        """Esc in the filter: drop the filter and hide the bar."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="filter: substring or regex · enter keep · esc clear", id=id, compact=True
        )

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Cleared())
