"""How `flametop report` looks: a Rich table on a terminal, plain aligned text in a pipe.

Names come from profiled programs and may hold escape sequences or markup: every name
goes through `clean` and into a plain `Text` (Rich) or a plain string (pipe), never
through markup. Without colour the sign of a change still says which way it went.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from samplers.session.report import FunctionRow, ProfileSummary, Report
from tui.render.safe_text import clean

GREW_STYLE = "bold red"
SHRANK_STYLE = "bold blue"


def seconds_text(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f}s"
    if seconds >= 10:
        return f"{seconds:.1f}s"
    return f"{seconds:.2f}s"


def points_text(points: float) -> str:
    """A change in points, always signed; a change that rounds to zero reads 0.0."""
    if abs(points) < 0.05:
        return "0.0"
    return f"{points:+.1f}"


def summary_line(s: ProfileSummary, fmt: str = "") -> str:
    meta = s.metadata
    parts = [clean(s.name, 120)]
    if fmt:
        parts.append(fmt)
    parts.append(f"{s.samples} samples")
    parts.append(f"{seconds_text(s.seconds)} at {s.rate:g} Hz")
    if meta.mode:
        parts.append(clean(meta.mode, 20))
    if meta.sampler:
        parts.append(clean(meta.sampler, 40))
    if meta.start_time:
        parts.append(clean(meta.start_time, 40))
    if meta.cmdline:
        parts.append(clean(" ".join(meta.cmdline), 80))
    return " · ".join(parts)


def _columns(report: Report) -> list[tuple[str, bool]]:
    """(header, right-aligned) of each column; the function column is last."""
    if report.baseline is None:
        return [("%Own", True), ("%Total", True), ("OwnTime", True), ("TotalTime", True)]
    return [
        ("%Own", True),
        ("%Total", True),
        ("Base%Total", True),
        ("Δ%Total", True),
        ("TotalTime", True),
    ]


def _cells(row: FunctionRow, with_baseline: bool) -> list[str]:
    if not with_baseline:
        return [
            f"{row.own_percent:.1f}",
            f"{row.total_percent:.1f}",
            seconds_text(row.own_seconds),
            seconds_text(row.total_seconds),
        ]
    return [
        f"{row.own_percent:.1f}",
        f"{row.total_percent:.1f}",
        f"{row.base_total_percent or 0.0:.1f}",
        points_text(row.delta_total_points or 0.0),
        seconds_text(row.total_seconds),
    ]


def _heading(report: Report, fmt: str, baseline_fmt: str) -> list[str]:
    if report.baseline is None:
        return [summary_line(report.profile, fmt)]
    return [
        "new:      " + summary_line(report.profile, fmt),
        "baseline: " + summary_line(report.baseline, baseline_fmt),
        "sorted by the size of the change of %Total, in points (+ grew, - shrank)",
    ]


def _footer(report: Report, shown: int) -> str | None:
    hidden = len(report.rows) - shown
    if hidden > 0:
        return f"… {hidden} more functions (--top 0 shows all)"
    return None


def plain_lines(
    report: Report, rows: Sequence[FunctionRow], fmt: str = "", baseline_fmt: str = ""
) -> list[str]:
    """The report as aligned plain text: no colour, no box drawing, no escapes."""
    with_baseline = report.baseline is not None
    columns = _columns(report)
    table = [[h for h, _ in columns] + ["Function (file:line)"]]
    table += [_cells(r, with_baseline) + [clean(r.label)] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    out = _heading(report, fmt, baseline_fmt) + [""]
    for line in table:
        cells = [c.rjust(w) for c, w in zip(line, widths, strict=False)]
        out.append("  ".join([*cells, line[-1]]).rstrip())
    footer = _footer(report, len(rows))
    if footer:
        out.append(footer)
    return out


def rich_table(report: Report, rows: Sequence[FunctionRow], fmt: str = "") -> Table:
    with_baseline = report.baseline is not None
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for header, right in _columns(report):
        table.add_column(header, justify="right" if right else "left", no_wrap=True)
    table.add_column("Function (file:line)", overflow="fold", ratio=1)
    for row in rows:
        cells: list[Text] = [Text(c) for c in _cells(row, with_baseline)]
        if with_baseline:
            d = row.delta_total_points or 0.0
            style = GREW_STYLE if d >= 0.05 else SHRANK_STYLE if d <= -0.05 else ""
            cells[3].stylize(style)
        name = Text(clean(row.function))
        if row.file:
            where = f"{row.file}:{row.line}" if row.line else row.file
            name.append(f" ({clean(where)})", style="dim")
        table.add_row(*cells, name)
    return table


def print_report(
    report: Report,
    top: int,
    console: Console,
    fmt: str = "",
    baseline_fmt: str = "",
) -> None:
    """Rich on a terminal, plain text otherwise (a pipe or a file gets no escapes)."""
    rows = report.top(top)
    if not console.is_terminal:
        for line in plain_lines(report, rows, fmt, baseline_fmt):
            console.file.write(line + "\n")
        return
    for line in _heading(report, fmt, baseline_fmt):
        console.print(Text(line, style="bold", no_wrap=True, overflow="ellipsis"))
    console.print(rich_table(report, rows, fmt))
    footer = _footer(report, len(rows))
    if footer:
        console.print(Text(footer, style="dim"))
