"""Colours for frames: by package or file, or by growth against a baseline.

A small fixed palette whose colours stay distinct when downgraded to 16 colours (each
sits near a different ANSI colour). Red and blue are kept for the baseline comparison.
The assignment is a stable hash, so a file keeps its colour across runs and widgets.
"""

from __future__ import annotations

import re
import zlib

from rich.style import Style

from samplers.model import Frame

# Background, foreground. Each background is nearest to a different ANSI colour
# (yellow, green, cyan, magenta and their bright variants) so 16-colour terminals
# keep them apart.
_PACKAGE_COLOURS: tuple[tuple[str, str], ...] = (
    ("#d7a000", "#000000"),
    ("#5faf00", "#000000"),
    ("#00a0a0", "#000000"),
    ("#a050a0", "#000000"),
    ("#fce94f", "#000000"),
    ("#8ae234", "#000000"),
    ("#34e2e2", "#000000"),
    ("#d75fd7", "#000000"),
)
PACKAGE_STYLES: tuple[Style, ...] = tuple(
    Style(bgcolor=bg, color=fg) for bg, fg in _PACKAGE_COLOURS
)
ROOT_STYLE = Style(bgcolor="#606060", color="#ffffff")
UNKNOWN_STYLE = Style(bgcolor="#a0a0a0", color="#000000")

GREW_STRONG = Style(bgcolor="#b00000", color="#ffffff")
GREW = Style(bgcolor="#e05555", color="#000000")
SHRANK_STRONG = Style(bgcolor="#1c3fa0", color="#ffffff")
SHRANK = Style(bgcolor="#5f87ff", color="#000000")
UNCHANGED = Style(bgcolor="#a0a0a0", color="#000000")

# Changes of share, in percentage points, below which a frame counts as unchanged, and
# from which it counts as a strong change.
UNCHANGED_POINTS = 0.1
STRONG_POINTS = 1.0

_SITE_DIR = re.compile(r"(?:^|/)(?:site|dist)-packages/([^/]+)")
_STDLIB_DIR = re.compile(r"(?:^|/)lib(?:64)?/python\d+(?:\.\d+)?t?/")
_MODULE_SUFFIX = re.compile(r"\.(?:py|pyc|pyx|so)$")


def package_of(file: str) -> str:
    """What a frame's colour follows: the installed package, "stdlib", or the file itself.

    `…/site-packages/requests/api.py` → "requests"; `/usr/lib/python3.11/json/x.py` →
    "stdlib"; `<frozen importlib._bootstrap>` → "<frozen>"; `app.py` → "app.py".
    """
    path = file.replace("\\", "/")
    site = _SITE_DIR.search(path)
    if site:
        return _MODULE_SUFFIX.sub("", site.group(1))
    if _STDLIB_DIR.search(path) or path.startswith("<frozen"):
        return "stdlib"
    return path


def style_for_frame(frame: Frame | None) -> Style:
    """The background/foreground style of a frame, by its package or file."""
    if frame is None:
        return ROOT_STYLE
    if not frame.file:
        return UNKNOWN_STYLE
    key = package_of(frame.file).encode("utf-8", "surrogatepass")
    return PACKAGE_STYLES[zlib.crc32(key) % len(PACKAGE_STYLES)]


def style_for_delta(delta: float | None) -> Style:
    """Red for growth, blue for shrinkage (darker when strong), grey when unchanged."""
    if delta is None or abs(delta) < UNCHANGED_POINTS:
        return UNCHANGED
    if delta > 0:
        return GREW_STRONG if delta >= STRONG_POINTS else GREW
    return SHRANK_STRONG if -delta >= STRONG_POINTS else SHRANK


def legend() -> tuple[tuple[str, Style], ...]:
    """Swatch text and style pairs for the baseline legend; readable without colour."""
    return (
        (f" ▲ grew ≥{STRONG_POINTS:g} pt ", GREW_STRONG),
        (" ▲ grew ", GREW),
        (" ≈ same ", UNCHANGED),
        (" ▼ shrank ", SHRANK),
        (f" ▼ shrank ≥{STRONG_POINTS:g} pt ", SHRANK_STRONG),
    )
