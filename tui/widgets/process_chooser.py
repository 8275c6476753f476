"""The `P` process chooser: all processes, or one (by pid and command line)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from samplers.tree.snapshot import ProcessStat
from tui.render.safe_text import clean

ALL = "\x00all"


@dataclass(frozen=True, slots=True)
class ProcessChoice:
    """What the user chose: pid None means every process."""

    pid: int | None
    label: str | None = None  # "pid cmdline", for the header and titles


def process_rows(processes: tuple[ProcessStat, ...]) -> list[str]:
    """`share  pid cmdline` per process, as the chooser lists them."""
    total = sum(p.samples for p in processes) or 1
    return [f"{p.samples * 100 / total:5.1f}%  {clean(p.label, 100)}" for p in processes]


class ProcessChooser(ModalScreen[ProcessChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel", show=True)]

    def __init__(self, processes: tuple[ProcessStat, ...], current: int | None) -> None:
        super().__init__()
        self._processes = processes
        self._current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text("all processes"), id=ALL)]
        for i, row in enumerate(process_rows(self._processes)):
            options.append(Option(Text(row), id=str(i)))
        with Vertical(id="process-box") as box:
            box.border_title = "process"
            box.border_subtitle = "enter choose · esc cancel"
            chooser = OptionList(*options, id="process-list")
            pids = [p.pid for p in self._processes]
            if self._current in pids:
                chooser.highlighted = pids.index(self._current) + 1
            yield chooser

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id == ALL:
            self.dismiss(ProcessChoice(None))
            return
        process = self._processes[int(option_id)]
        self.dismiss(ProcessChoice(process.pid, process.label))

    def action_cancel(self) -> None:
        self.dismiss(None)
