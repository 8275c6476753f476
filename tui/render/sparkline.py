"""Unicode block sparklines: a pure function from numbers to a short string."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(
    values: Sequence[float | None],
    width: int,
    *,
    low: float | None = 0.0,
    high: float | None = None,
    align: str = "right",
) -> str:
    """The last `width` values drawn as blocks, padded with spaces to `width` (the
    blocks on the right by default, so the newest value sits at the same place).

    `low`/`high` fix the scale; None takes the min/max of the values shown. A missing value
    (None) is drawn as a space so gaps in readings stay visible.
    """
    if width <= 0:
        return ""
    shown = list(values[-width:])
    known = [v for v in shown if v is not None]
    if not known:
        return " " * width if align == "right" else ""

    lo = min(known) if low is None else low
    hi = max(known) if high is None else high
    if hi <= lo:
        hi = lo + 1.0
    span = hi - lo
    top = len(BLOCKS) - 1
    chars: list[str] = []
    for v in shown:
        if v is None:
            chars.append(" ")
            continue
        level = round((min(max(v, lo), hi) - lo) / span * top)
        chars.append(BLOCKS[level])
    pad = " " * (width - len(chars))
    return pad + "".join(chars) if align == "right" else "".join(chars) + pad


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KB'; base 1024, one decimal under 10."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            if unit == "B":
                return f"{value:.0f} B"
            return f"{value:.1f} {unit}" if abs(value) < 10 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} TB"


def human_seconds(s: float) -> str:
    """Durations for table cells: '850ms', '12.3s', '4m05s', '2h03m'."""
    if s < 1:
        return f"{s * 1000:.0f}ms"
    if s < 60:
        return f"{s:.1f}s" if s < 100 else f"{s:.0f}s"
    if s < 3600:
        m, sec = divmod(int(s), 60)
        return f"{m}m{sec:02d}s"
    h, rest = divmod(int(s), 3600)
    return f"{h}h{rest // 60:02d}m"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]
