"""Every key of the live screen in one table: the app's bindings and the help screen are
both built from it, so `?` always lists what the keys really do."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class Key:
    keys: str  # Textual key names, comma separated
    action: str
    description: str  # short, for the footer
    help: str  # one line, for the help screen
    show: bool = False  # in the footer
    key_display: str | None = None
    priority: bool = False


KEYMAP: tuple[Key, ...] = (
    Key("q", "quit", "quit", "quit (the target keeps running unless flametop started it)", True),
    Key("ctrl+c", "quit", "quit", "quit", priority=True),
    Key("p,space", "pause", "pause", "pause / resume the view; sampling never stops", True, "p"),
    Key("s", "snapshot", "snap", "save screen SVG, flame graph SVG and .flametop capture", True),
    Key("slash", "filter", "filter", "filter functions and files (substring or regex)", True, "/"),
    Key("t", "thread", "thread", "choose a thread: all, one, or a name pattern", True),
    Key("P", "process", "process", "choose a process: all, or one (--subprocesses)"),
    Key("w", "window", "window", "cycle the window: 5 s, 30 s, 5 min, everything", True),
    Key("m", "mode", "mode", "cycle mode cpu / wall / gil (in-process: at once, past too)", True),
    Key("l", "by_line", "lines", "tell functions apart by line"),
    Key("r", "reset", "reset", "forget the aggregate and start over (the capture keeps all)"),
    Key("b", "baseline", "baseline", "mark the window shown as baseline (Δ%Total); again: clear"),
    Key("1", "sort('own')", "sort %Own", "sort by %Own"),
    Key("2", "sort('total')", "sort %Total", "sort by %Total"),
    Key("3", "sort('own_s')", "sort OwnTime", "sort by OwnTime"),
    Key("4", "sort('total_s')", "sort TotalTime", "sort by TotalTime"),
    Key("escape", "escape", "back", "zoom out one level, else clear the filter"),
    Key("backspace", "zoom_out", "zoom out", "zoom out one level"),
    Key("question_mark", "help", "help", "this help", True, "?"),
)

# Keys handled by the focused widget; listed in help, not bound by the app.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("tab", "move focus between the table and the icicle"),
    ("↑ ↓  j k", "table: move the selection (the icicle highlights it)"),
    ("← → ↑ ↓  j k", "icicle: move between frames (j k: callee, caller)"),
    ("pgup pgdn", "icicle: a screenful down (widest callees) or up"),
    ("home end", "icicle: to the root / down the widest to the bottom"),
    ("z", "icicle: fold / unfold the ▸ row of shared frames"),
    ("enter", "icicle: zoom in (the table scopes to it); ▸: unfold"),
    ("click a header", "sort the table by that column"),
    ("mouse", "click rows and frames; never required"),
)


def bindings() -> list[BindingType]:
    return [
        Binding(
            k.keys,
            k.action,
            k.description,
            show=k.show,
            key_display=k.key_display,
            priority=k.priority,
        )
        for k in KEYMAP
    ]


def help_rows() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for k in KEYMAP:
        shown = k.key_display or k.keys.replace("question_mark", "?").replace("slash", "/")
        if k.keys == "p,space":
            shown = "p / space"
        rows.append((shown, k.help))
    rows.extend(NAVIGATION)
    return rows
