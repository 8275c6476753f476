"""The one-line header: target, mode, rates, coverage, window and LIVE / PAUSED / EXITED."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive

from tui.render.safe_text import clean
from tui.widgets.text_pane import TextPane

STATE_LIVE = "LIVE"
STATE_PAUSED = "PAUSED"
STATE_EXITED = "TARGET EXITED"
STATE_STARTING = "STARTING"
STATE_FAILED = "SAMPLER FAILED"


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """Everything the header shows; the app builds a new one whenever something changes."""

    target: str = ""
    mode: str = "cpu"
    pending_mode: str | None = None  # asked for, applies from the next chunk
    rate: float = 0.0
    achieved_rate: float | None = 0.0  # None: not known (idle instants unseen)
    coverage: float | None = None
    window_s: float | None = 30.0
    state: str = STATE_STARTING
    paused_for_s: float | None = None
    samples_since_pause: int = 0
    error: str | None = None
    backend: str = ""  # "in-process" or "py-spy CLI"
    gil_held: float | None = None
    active_threads: float | None = None
    note: str | None = None  # a reason the screen may mislead (shown after the numbers)
    process: str = ""  # the process chosen with `P` ("pid cmdline"); "": all of them


def window_label(window_s: float | None) -> str:
    if window_s is None:
        return "everything"
    if window_s >= 60:
        return f"{window_s / 60:g} min"
    return f"{window_s:g} s"


class FlametopHeader(TextPane):
    COMPONENT_CLASSES = {
        "header--title",
        "header--live",
        "header--paused",
        "header--exited",
        "header--error",
    }

    info: reactive[HeaderInfo] = reactive(HeaderInfo, repaint=False)

    def watch_info(self, old: HeaderInfo, new: HeaderInfo) -> None:
        # The rates and shares are rounded on screen: most new infos paint the same line.
        # The error line changes the height: TextPane then reflows the screen.
        self.state_changed()

    def build(self, width: int, height: int) -> Text:
        info = self.info
        badge = self._badge(info)
        room = max(0, width - badge.cell_len - 1)
        left = self._summary(info)
        if left.cell_len > room:
            left = self._summary(info, compact=True)
        left.truncate(room, overflow="ellipsis")
        line = Text.assemble(left, " " * max(1, width - left.cell_len - badge.cell_len), badge)
        line.truncate(width)
        if info.error:
            err = Text("⚠ " + clean(info.error), style=self.style_of("header--error"))
            err.truncate(width, overflow="ellipsis")
            return Text("\n").join([line, err])
        return line

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return 2 if self.info.error else 1

    def _summary(self, info: HeaderInfo, compact: bool = False) -> Text:
        title_style = self.style_of("header--title")
        text = Text("flametop", style=title_style, no_wrap=True)
        mode = info.mode if not info.pending_mode else f"{info.mode}→{info.pending_mode}"
        parts = [clean(info.target, 80), mode]
        if info.process:  # what everything below is scoped to, before numbers that may be cut
            parts.append(f"process {clean(info.process, 24 if compact else 40)}")
        if info.note:  # next to the mode it explains, before numbers that may be cut
            parts.append(info.note)
        if info.rate and info.achieved_rate is None:
            parts.append(f"{info.rate:g} Hz")
        elif info.rate:
            parts.append(f"{info.achieved_rate:.0f}/{info.rate:g} Hz")
        if info.coverage is not None:
            parts.append(f"{info.coverage * 100:.0f}%" + (" cov" if compact else " coverage"))
        if info.gil_held is not None and not compact:  # narrow: the target's pid first
            parts.append(f"GIL {info.gil_held * 100:.0f}%")
        if info.active_threads is not None and not compact:
            parts.append(f"{info.active_threads:.1f} active")
        parts.append(
            window_label(info.window_s) if compact else f"window {window_label(info.window_s)}"
        )
        if info.backend and not compact:
            parts.append(info.backend)

        if compact:
            parts = parts[1:] + parts[:1]  # the target is the part that may be cut
        for part in parts:
            if part:
                text.append(" · ")
                text.append(part)
        return text

    def _badge(self, info: HeaderInfo) -> Text:
        if info.state == STATE_PAUSED:
            style = self.style_of("header--paused")
            label = STATE_PAUSED
            if info.paused_for_s is not None:
                label += f" {info.paused_for_s:.0f}s · +{info.samples_since_pause} samples"
        elif info.state in (STATE_EXITED, STATE_FAILED):
            style = self.style_of("header--exited")
            label = info.state
        else:
            style = self.style_of("header--live")
            label = info.state
        return Text(f" {label} ", style=style, no_wrap=True)
