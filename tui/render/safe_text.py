"""Names from the profiled process, made safe to show.

Function, file and thread names come from the target and may carry terminal escape
sequences, control characters, bidi overrides or Rich markup. Everything shown in the TUI
goes through `clean` and is rendered as plain `rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

import re
import unicodedata

from rich.text import Text

# CSI / OSC / DCS / other escape sequences, then any lone ESC.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_MAX_LEN = 300


def clean(name: str, max_len: int = _MAX_LEN) -> str:
    """`name` with escape sequences removed and control/format characters replaced.

    Control characters (C0, C1, DEL) become "?" and newlines/tabs become a space, so a
    name always stays on one line; bidi controls and other invisible format characters
    (category Cf) are dropped so text cannot be reordered on screen. Over-long names are
    cut with an ellipsis.
    """
    if name.isprintable() and len(name) <= max_len:
        return name
    text = _ESCAPES.sub("", name)
    out: list[str] = []
    for ch in text:
        if ch in "\n\r\t\v\f":
            out.append(" ")
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            out.append("?")
        elif category in ("Cf", "Cs", "Co", "Cn"):
            continue
        elif category in ("Zl", "Zp"):
            out.append(" ")
        else:
            out.append(ch)
    result = "".join(out)
    if len(result) > max_len:
        result = result[: max_len - 1] + "…"
    return result


def plain(name: str, style: str = "") -> Text:
    """A Text of the cleaned name; markup-looking text such as "[bold]" stays literal."""
    return Text(clean(name), style=style, no_wrap=True, overflow="ellipsis")
