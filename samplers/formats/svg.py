"""Interactive flame graph SVG, self-contained (no network): `write` and `write_diff`.

Root at the top (an icicle, like the TUI). One `<g class="frame">` per frame holds a
`<title>` (name, samples, percent), a `<rect>` and a `<text>`; frames narrower than 0.1% of
all samples are dropped. Colours follow the module or package; the names, the tooltips
and the details line carry the same meaning in text. Every name is made safe for XML:
control characters become visible pictures, bidi controls are removed, characters XML
forbids are replaced, and `& < > " '` are escaped. The differential graph colours the new
profile's frames red (share grew) or blue (shrank) and marks changes of at least half a
point with ▲/▼ in the label, so the direction is readable without colour.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from samplers.formats.common import safe_text
from samplers.formats.flamegraph_layout import Box, Key, layout
from samplers.formats.svg_assets import CSS, SCRIPT
from samplers.model import Metadata, Profile

WIDTH = 1200
PAD = 10
ROW = 18
HEADER = 104
FOOTER = 34
MIN_FRACTION = 0.001
CHAR_PX = 7.3

_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` safe inside an XML element or a double- or single-quoted attribute."""
    clean = _NOT_XML.sub("\ufffd", _BIDI.sub("", safe_text(text)))
    # by hand: xml.sax.saxutils would import urllib (20 ms of every start-up)
    return (
        clean.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _name(key: Key) -> str:
    function, file = key
    if function == "all" and not file:
        return "all"
    return f"{function} ({file})" if file else function


def _module(file: str) -> str:
    """The package (site-packages), "stdlib", or the file itself: what colours group by."""
    path = file.replace("\\", "/")
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0]
    if re.search(r"/lib/python\d", path) or path.startswith("<frozen"):
        return "stdlib"
    return path.rsplit("/", 1)[-1]


def _module_colour(key: Key) -> str:
    function, file = key
    if not file:
        return "#d9d9d9"  # roots, thread frames, native frames without a file
    h = zlib.crc32(_module(file).encode("utf-8", "replace"))
    hue = h % 50  # warm: red to yellow
    sat = 70 + (h >> 8) % 20
    light = 58 + (h >> 16) % 16
    return f"hsl({hue},{sat}%,{light}%)"


def _fit(label: str, px: float) -> str:
    n = int((px - 6) // CHAR_PX)
    if n < 3:
        return ""
    return label if len(label) <= n else label[: n - 2] + ".."


def _header_text(meta: Metadata, total: int) -> tuple[str, str]:
    title = "Flame graph"
    if meta.cmdline:
        title += f": {' '.join(meta.cmdline)}"
    if meta.pid is not None:
        title += f" (pid {meta.pid})"
    bits = []
    if meta.mode:
        bits.append(f"mode {meta.mode}")
    if meta.rate:
        bits.append(f"{meta.rate:g} Hz")
    if meta.duration_s:
        bits.append(f"{meta.duration_s:.1f} s")
    bits.append(f"{total} samples")
    if meta.source_format:
        bits.append(f"read from {meta.source_format}")
    for value, label in (
        (meta.start_time, "start"),
        (meta.host, "host"),
        (meta.sampler, "sampler"),
        (meta.python_version, "Python"),
        (meta.git_commit[:12], "git"),
        (meta.git_branch, "branch"),
        (meta.kernel_release, "kernel"),
        (meta.build_id[:12], "build-id"),
        (meta.flametop_version, "flametop"),
    ):
        if value:
            bits.append(f"{label} {value}")
    return title, " · ".join(bits)


def _render(
    title: str,
    meta_line: str,
    legend: str,
    boxes: list[Box],
    colour: Callable[[Box], str],
    info: Callable[[Box], str],
    label: Callable[[Box], str],
) -> bytes:
    inner = WIDTH - 2 * PAD
    depth = max((b.depth for b in boxes), default=0)
    height = HEADER + (depth + 1) * ROW + FOOTER
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" data-pad="{PAD}" data-inner-width="{inner}">',
        f"<style><![CDATA[{CSS}]]></style>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fdfdf8"/>',
        f'<text id="title" x="{PAD}" y="24">{xml_text(_fit(title, inner * CHAR_PX / 10.4))}</text>',
        f'<text id="meta" x="{PAD}" y="44">{xml_text(_fit(meta_line, inner))}</text>',
        f'<foreignObject x="{PAD}" y="54" width="320" height="26">'
        '<input xmlns="http://www.w3.org/1999/xhtml" id="search" type="search"'
        ' placeholder="Search: regex or text (Ctrl-F)" aria-label="Search functions"/>'
        "</foreignObject>",
        f'<g id="reset" class="disabled" role="button" tabindex="0"><rect x="{PAD + 330}" y="56"'
        f' width="96" height="20" rx="3"/><text x="{PAD + 340}" y="70">Reset zoom</text></g>',
        f'<text id="matched" x="{PAD + 440}" y="70"></text>',
        f'<text id="legend" x="{PAD}" y="94">{xml_text(_fit(legend, inner))}</text>',
        '<g id="frames">',
    ]
    for b in boxes:
        name = _name(b.path[-1])
        shown = label(b)
        x = PAD + b.x * inner
        w = max(b.width * inner, 0.5)
        y = HEADER + b.depth * ROW
        out.append(
            f'<g class="frame" tabindex="0" data-x="{b.x:.9f}" data-w="{b.width:.9f}" data-d="{b.depth}"'
            f' data-name="{xml_text(name)}" data-label="{xml_text(shown)}">'
            f"<title>{xml_text(info(b))}</title>"
            f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{ROW - 1}" fill="{colour(b)}"/>'
            f'<text x="{x + 3:.2f}" y="{y + ROW - 5}">{xml_text(_fit(shown, w))}</text></g>'
        )
    if not boxes:
        out.append(f'<text x="{PAD}" y="{HEADER + ROW - 5}">No samples were recorded.</text>')
    out.append("</g>")
    out.append(
        f'<text id="details" x="{PAD}" y="{height - 12}">'
        "Click a frame to zoom, Reset zoom or Esc to go back; hover for details.</text>"
    )
    out.append(f"<script><![CDATA[{SCRIPT}]]></script>")
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "0%"


def write(profile: Profile) -> bytes:
    """An interactive flame graph of the whole profile."""
    boxes = layout(profile, MIN_FRACTION)
    total = boxes[0].total if boxes else 0
    title, meta_line = _header_text(profile.metadata, total)

    def info(b: Box) -> str:
        return (  # the same text a person reads in the tooltip and the details line
            f"{_name(b.path[-1])} — {b.total} samples ({_pct(b.total, total)}),"
            f" own {b.own} ({_pct(b.own, total)})"
        )

    return _render(
        title,
        meta_line,
        "Colour: module or package (hover or search for names). Click a frame to zoom.",
        boxes,
        lambda b: _module_colour(b.path[-1]),
        info,
        lambda b: _name(b.path[-1]),
    )


def _diff_colour(delta: float, biggest: float) -> str:
    if abs(delta) < 0.05 or biggest <= 0:
        return "#e8e8e8"
    t = min(1.0, abs(delta) / biggest)
    light = 92 - 42 * t
    return f"hsl(0,85%,{light:.0f}%)" if delta > 0 else f"hsl(218,85%,{light:.0f}%)"


def write_diff(new: Profile, baseline: Profile) -> bytes:
    """The new profile's flame graph coloured by each frame's change of share, in points.

    Threads are merged in both profiles so the same code path matches across runs.
    """
    boxes = layout(new, MIN_FRACTION, by_thread=False, basename_only=True)
    # Baseline paths narrower than MIN_FRACTION count as 0: an error under 0.1 point.
    old = layout(baseline, MIN_FRACTION, by_thread=False, basename_only=True)
    base_shares = {b.path: b.width for b in old}
    total = boxes[0].total if boxes else 0
    deltas = {b.path: 100.0 * (b.width - base_shares.get(b.path, 0.0)) for b in boxes}
    biggest = max((abs(d) for p, d in deltas.items() if len(p) > 1), default=0.0)
    top = max(
        ((p, d) for p, d in deltas.items() if len(p) > 1), key=lambda pd: abs(pd[1]), default=None
    )
    title, meta_line = _header_text(new.metadata, total)
    title = "Differential f" + title[1:]
    base_total = baseline.total

    def marker(b: Box) -> str:
        d = deltas[b.path]
        return "▲ " if d >= 0.5 else "▼ " if d <= -0.5 else ""

    def info(b: Box) -> str:
        d = deltas[b.path]
        was = 100.0 * base_shares.get(b.path, 0.0)
        return (
            f"{_name(b.path[-1])} — {b.total} samples ({_pct(b.total, total)}),"
            f" was {was:.2f}%, change {d:+.2f} pts"
        )

    biggest_text = ""
    if top is not None:
        biggest_text = f"Biggest change: {top[1]:+.1f} pts {_name(top[0][-1])}. "
    legend = biggest_text + (
        f"Red ▲ grew, blue ▼ shrank: change of each frame's share of samples, in points,"
        f" vs a baseline of {base_total} samples."
    )
    return _render(
        title,
        meta_line,
        legend,
        boxes,
        lambda b: _diff_colour(deltas[b.path], biggest),
        info,
        lambda b: marker(b) + _name(b.path[-1]),
    )
