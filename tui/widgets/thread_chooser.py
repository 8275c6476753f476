"""The `t` thread chooser: all threads, one thread, or a name pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui.render.safe_text import clean


@dataclass(frozen=True, slots=True)
class ThreadChoice:
    """What the user chose: None pattern means all threads."""

    pattern: str | None
    label: str | None = None  # what to show for it


def exact_thread_pattern(name: str) -> str:
    """A regex matching exactly this thread name (a bare substring could match others)."""
    return f"^{re.escape(name)}$"


class ThreadChooser(ModalScreen[ThreadChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel", show=True)]

    def __init__(self, threads: tuple[tuple[str, int], ...], current: str | None) -> None:
        super().__init__()
        self._threads = threads
        self._current = current

    def compose(self) -> ComposeResult:
        total = sum(n for _, n in self._threads) or 1
        options = [Option(Text("all threads"), id="\x00all")]
        for i, (name, count) in enumerate(self._threads):
            label = Text(f"{count * 100 / total:5.1f}%  ")
            label.append(clean(name or "(unnamed)"))
            options.append(Option(label, id=str(i)))
        with Vertical(id="thread-box") as box:
            box.border_title = "thread"
            box.border_subtitle = "enter choose · esc cancel"
            yield OptionList(*options, id="thread-list")
            pattern = Input(
                placeholder="or a name pattern (substring or regex), enter", id="thread-pattern"
            )
            if self._current and not self._current.startswith("^"):
                pattern.value = self._current
            yield pattern

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id == "\x00all":
            self.dismiss(ThreadChoice(None))
            return
        name = self._threads[int(option_id)][0]
        self.dismiss(ThreadChoice(exact_thread_pattern(name), name))

    @on(Input.Submitted)
    def _pattern(self, event: Input.Submitted) -> None:
        self.dismiss(ThreadChoice(event.value.strip() or None))

    def action_cancel(self) -> None:
        self.dismiss(None)
