"""The time slider of `flametop view`: one line showing where the window ends within the
capture, with play state and the wall-clock time. Focus it and use ← → (Home / End) to
step, or click anywhere on the bar to jump. It only posts messages; the app moves."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.render.timeline import Timeline, clock, utc

BAR_MIN = 10


class TimeSlider(Widget, can_focus=True):
    BINDINGS = [
        Binding("left,h", "step(-1)", "back 1 s", show=False),
        Binding("right,l", "step(1)", "forward 1 s", show=False),
        Binding("shift+left", "step(-10)", "back 10 s", show=False),
        Binding("shift+right", "step(10)", "forward 10 s", show=False),
        Binding("home", "jump(0)", "start", show=False),
        Binding("end", "jump(1)", "end", show=False),
    ]

    DEFAULT_CSS = """
    TimeSlider {
        height: 1;
        padding: 0 1;
    }
    TimeSlider:focus {
        text-style: bold;
    }
    """

    timeline: reactive[Timeline] = reactive(Timeline, layout=False)

    class Step(Message):
        def __init__(self, seconds: float) -> None:
            super().__init__()
            self.seconds = seconds

    class Seek(Message):
        def __init__(self, fraction: float) -> None:
            super().__init__()
            self.fraction = fraction

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._bar_start = 0
        self._bar_width = 0

    def render(self) -> Text:
        tl = self.timeline
        width = max(1, self.size.width)
        if not tl.has_time:
            return Text("static profile: one batch, no timeline", style="dim", no_wrap=True)
        left = f"{clock(tl.at - tl.first_t)} "
        right = f" {clock(tl.span)}"
        when = utc(tl.at)
        if when:
            right += f" · {when}"
        bar_width = width - len(left) - len(right)
        if bar_width < BAR_MIN:
            right = f" {clock(tl.span)}"
            bar_width = max(0, width - len(left) - len(right))
        self._bar_start, self._bar_width = len(left), bar_width
        filled = round(tl.fraction * max(0, bar_width - 1))
        bar = Text()
        bar.append("━" * filled, style="bold")
        bar.append("●" if bar_width else "")
        bar.append("─" * max(0, bar_width - filled - 1), style="dim")
        text = Text.assemble(left, bar, right, no_wrap=True)
        text.truncate(width)
        return text

    def action_step(self, seconds: float) -> None:
        self.post_message(self.Step(seconds))

    def action_jump(self, fraction: float) -> None:
        self.post_message(self.Seek(fraction))

    def on_click(self, event: events.Click) -> None:
        if self._bar_width > 1 and self.timeline.has_time:
            x = event.x - self.styles.padding.left - self._bar_start
            self.post_message(self.Seek(max(0.0, min(1.0, x / (self._bar_width - 1)))))
