"""The `t` thread chooser: all threads, one thread, or a name pattern. Each thread shows
its share of the window's samples and, from the in-process sampler, how often it was
running (active) when sampled; with several processes, whose thread it is."""

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

from samplers.tree.snapshot import ThreadStat
from tui.render.safe_text import clean


@dataclass(frozen=True, slots=True)
class ThreadChoice:
    """What the user chose: None pattern means all threads."""

    pattern: str | None
    label: str | None = None  # what to show for it
    pid: int | None = None  # the chosen thread's process, when several are sampled


def exact_thread_pattern(name: str) -> str:
    """A regex matching exactly this thread name (a bare substring could match others)."""
    return f"^{re.escape(name)}$"


def thread_rows(threads: tuple[ThreadStat, ...], several: bool) -> list[str]:
    """`share  active N%  name (pid P)` per thread; active only when the sampler said,
    the pid only when several processes are sampled."""
    total = sum(t.samples for t in threads) or 1
    rows: list[str] = []
    for t in threads:
        row = f"{t.samples * 100 / total:5.1f}%  "
        if t.active is not None:
            row += f"active {t.active * 100:.0f}%  "
        row += clean(t.name or "(unnamed)")
        if several:
            row += f" (pid {t.pid})"
        rows.append(row)
    return rows


class ThreadChooser(ModalScreen[ThreadChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel", show=True)]

    def __init__(
        self, threads: tuple[ThreadStat, ...], current: str | None, several: bool = False
    ) -> None:
        super().__init__()
        self._threads = threads
        self._current = current
        self._several = several

    def compose(self) -> ComposeResult:
        options = [Option(Text("all threads"), id="\x00all")]
        for i, row in enumerate(thread_rows(self._threads, self._several)):
            options.append(Option(Text(row), id=str(i)))
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
        thread = self._threads[int(option_id)]
        if self._several:
            label = f"{thread.name} (pid {thread.pid})"
            self.dismiss(ThreadChoice(exact_thread_pattern(thread.name), label, thread.pid))
        else:
            self.dismiss(ThreadChoice(exact_thread_pattern(thread.name), thread.name))

    @on(Input.Submitted)
    def _pattern(self, event: Input.Submitted) -> None:
        self.dismiss(ThreadChoice(event.value.strip() or None))

    def action_cancel(self) -> None:
        self.dismiss(None)
