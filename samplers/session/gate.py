"""The CI gate of `flametop report NEW --baseline OLD --fail-over POINTS`: which functions'
share of samples grew by more than POINTS percentage points.

Shares, not seconds: a benchmark run on a slower CI machine or for longer still compares.
`total` (the default) is the share of samples whose stack holds the function, so a
function that got slower through its callees counts; `own` is the share where it is the
leaf. A function new in NEW grows from 0%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from samplers.session.report import FunctionRow, Report

Metric = Literal["total", "own"]
EXIT_GREW = 3


@dataclass(frozen=True, slots=True)
class Growth:
    label: str  # `function (file:line)`
    function: str
    file: str
    before: float  # percent of the baseline's samples
    after: float  # percent of the new profile's samples
    points: float  # after - before

    def line(self, metric: Metric) -> str:
        return (
            f"{self.label}: {metric} share {self.before:.1f}% -> {self.after:.1f}% "
            f"(+{self.points:.1f} points)"
        )


def _growth(row: FunctionRow, metric: Metric) -> Growth:
    if metric == "own":
        before, after = row.base_own_percent or 0.0, row.own_percent
    else:
        before, after = row.base_total_percent or 0.0, row.total_percent
    return Growth(row.label, row.function, row.file, before, after, after - before)


def grown(report: Report, points: float, metric: Metric = "total") -> tuple[Growth, ...]:
    """Every function whose `metric` share grew by more than `points`, most first.
    `report` must be a comparison (build_diff)."""
    if report.baseline is None:
        raise ValueError("the gate needs a comparison with a baseline")
    # Rounded like the report shows them, so 5.00000001 is not "over 5".
    found = [g for g in (_growth(r, metric) for r in report.rows) if round(g.points, 6) > points]
    return tuple(sorted(found, key=lambda g: (-g.points, g.label)))


def largest(report: Report, metric: Metric = "total") -> Growth | None:
    """The function that grew most (for the message when the gate passes)."""
    rows = [_growth(r, metric) for r in report.rows]
    return max(rows, key=lambda g: (g.points, g.label)) if rows else None


def gate_json(found: tuple[Growth, ...], points: float, metric: Metric) -> dict[str, Any]:
    return {
        "metric": metric,
        "fail_over_points": points,
        "passed": not found,
        "grown": [
            {
                "function": g.function,
                "file": g.file,
                "baseline_percent": round(g.before, 4),
                "percent": round(g.after, 4),
                "points": round(g.points, 4),
            }
            for g in found
        ],
    }
