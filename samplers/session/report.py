"""What `flametop report` computes: per-function own/total counts of a whole profile, the
comparison of two profiles by share of samples, and the stable JSON form of both.

A function is its name and file (py-spy's line moves as the function runs); the line
shown is the one seen in the most samples. Own counts the samples where the function is
the leaf; total counts the samples whose stack contains it, once per stack however deep
it recurses, so no share exceeds 100%. Threads are merged. Pure: no rich, no textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from samplers.errors import FormatError
from samplers.model import Metadata, Profile, Stack

SCHEMA = "flametop.report/2"  # 2: metadata has git_branch, kernel_release, build_id
DEFAULT_RATE = 100.0  # py-spy's default, for files that do not say their rate

FuncKey = tuple[str, str]  # (function, file)


@dataclass(frozen=True, slots=True)
class FunctionRow:
    """One function of one profile, or of a comparison (then the baseline fields are set)."""

    function: str
    file: str
    line: int
    own: int
    total: int
    own_percent: float
    total_percent: float
    own_seconds: float
    total_seconds: float
    base_own_percent: float | None = None
    base_total_percent: float | None = None
    delta_total_points: float | None = None  # total_percent - base_total_percent

    @property
    def label(self) -> str:
        """`function (file:line)`, `function (file)` or the bare name."""
        if not self.file:
            return self.function
        if self.line:
            return f"{self.function} ({self.file}:{self.line})"
        return f"{self.function} ({self.file})"


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """Totals of one profile."""

    name: str  # the file it came from, as given
    metadata: Metadata
    samples: int
    seconds: float  # samples turned into time at each batch's rate
    functions: int  # distinct functions
    threads: int  # distinct thread names ("" counts as one)
    rate: float  # Hz used to turn samples into seconds


@dataclass(frozen=True, slots=True)
class Report:
    profile: ProfileSummary
    rows: tuple[FunctionRow, ...]  # every function, ranked; cut to --top when shown
    baseline: ProfileSummary | None = None

    def top(self, n: int) -> tuple[FunctionRow, ...]:
        """The first `n` rows; `n` <= 0 means all of them."""
        return self.rows if n <= 0 else self.rows[:n]


@dataclass(slots=True)
class _Counts:
    own: dict[FuncKey, int]
    total: dict[FuncKey, int]
    own_s: dict[FuncKey, float]
    total_s: dict[FuncKey, float]
    lines: dict[FuncKey, dict[int, int]]
    samples: int
    seconds: float
    threads: int


def _rate_of(batch_rate: float, metadata: Metadata) -> float:
    if batch_rate > 0:
        return batch_rate
    return metadata.rate if metadata.rate > 0 else DEFAULT_RATE


def _merge(profile: Profile) -> tuple[dict[float, dict[tuple[int, ...], tuple[Stack, int]]], int]:
    """Samples per rate and distinct stack, and the number of threads. A long capture
    repeats the same few thousand stacks in every batch: merging first makes the walk
    over frames once per stack. Counts are summed by stack object first (the capture
    reader shares one tuple per stack), then by the identity of their frames (readers
    intern frames), so no Frame is hashed per sample."""
    by_object: dict[float, dict[int, int]] = {}
    stacks: dict[int, Stack] = {}
    threads: set[str] = set()
    for batch in profile.batches:
        counts = by_object.setdefault(_rate_of(batch.rate, profile.metadata), {})
        for sample in batch.samples:
            n = sample.count
            if n > 0:
                threads.add(sample.thread)
                k = id(sample.stack)
                if k in counts:
                    counts[k] += n
                else:
                    counts[k] = n
                    stacks[k] = sample.stack
    by_rate: dict[float, dict[tuple[int, ...], tuple[Stack, int]]] = {}
    for rate, counts in by_object.items():
        merged = by_rate[rate] = {}
        for k, n in counts.items():
            stack = stacks[k]
            key = tuple(map(id, stack))
            had = merged.get(key)
            merged[key] = (stack, n + (had[1] if had else 0))
    return by_rate, len(threads)


def _count(profile: Profile) -> _Counts:
    by_rate, threads = _merge(profile)
    c = _Counts({}, {}, {}, {}, {}, 0, 0.0, threads)
    for rate, merged in by_rate.items():
        own: dict[FuncKey, int] = {}
        total: dict[FuncKey, int] = {}
        samples = 0
        for stack, n in merged.values():
            samples += n
            seen: set[FuncKey] = set()
            for frame in stack:
                key = (frame.function, frame.file)
                lines = c.lines.setdefault(key, {})
                lines[frame.line] = lines.get(frame.line, 0) + n
                if key not in seen:
                    seen.add(key)
                    total[key] = total.get(key, 0) + n
            if stack:
                leaf = (stack[-1].function, stack[-1].file)
                own[leaf] = own.get(leaf, 0) + n
        # Seconds from integer counts, divided once per rate: exact and order-independent.
        c.samples += samples
        c.seconds += samples / rate
        for counts, secs, out in ((own, c.own_s, c.own), (total, c.total_s, c.total)):
            for key, n in counts.items():
                out[key] = out.get(key, 0) + n
                secs[key] = secs.get(key, 0.0) + n / rate
    return c


def _hot_line(lines: dict[int, int]) -> int:
    return min(lines.items(), key=lambda kv: (-kv[1], kv[0]))[0] if lines else 0


def _summary(name: str, profile: Profile, c: _Counts) -> ProfileSummary:
    rates = {_rate_of(b.rate, profile.metadata) for b in profile.batches if b.count}
    rate = rates.pop() if len(rates) == 1 else (c.samples / c.seconds if c.seconds else 0.0)
    return ProfileSummary(
        name=name,
        metadata=profile.metadata,
        samples=c.samples,
        seconds=c.seconds,
        functions=len(c.total),
        threads=c.threads,
        rate=rate,
    )


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _counted(name: str, profile: Profile) -> _Counts:
    c = _count(profile.in_mode())
    if c.samples == 0:
        raise FormatError(f"{name}: contains no samples; profile a run that lasts longer")
    return c


def build_report(profile: Profile, name: str = "") -> Report:
    """Every function of `profile`, by own samples, then total, then name."""
    c = _counted(name, profile)
    n = c.samples
    keys = sorted(c.total, key=lambda k: (-c.own.get(k, 0), -c.total[k], k))
    rows = tuple(
        FunctionRow(
            function=k[0],
            file=k[1],
            line=_hot_line(c.lines[k]),
            own=c.own.get(k, 0),
            total=c.total[k],
            own_percent=_pct(c.own.get(k, 0), n),
            total_percent=_pct(c.total[k], n),
            own_seconds=c.own_s.get(k, 0.0),
            total_seconds=c.total_s[k],
        )
        for k in keys
    )
    return Report(_summary(name, profile, c), rows)


def build_diff(
    profile: Profile, baseline: Profile, name: str = "", baseline_name: str = ""
) -> Report:
    """Every function of either profile, by the absolute change of its %Total (points),
    largest first; shares are of each profile's own sample count, so runs of different
    lengths compare. Functions only in the baseline show 0% now and a negative change."""
    c = _counted(name, profile)
    b = _counted(baseline_name, baseline)
    n, nb = c.samples, b.samples
    keys = set(c.total) | set(b.total)

    def delta(k: FuncKey) -> float:
        return _pct(c.total.get(k, 0), n) - _pct(b.total.get(k, 0), nb)

    # Rounded for ranking so float noise between equal changes cannot reorder rows.
    ranked = sorted(keys, key=lambda k: (-round(abs(delta(k)), 9), -c.total.get(k, 0), k))
    rows: list[FunctionRow] = []
    for k in ranked:
        lines = c.lines.get(k) or b.lines.get(k) or {}
        rows.append(
            FunctionRow(
                function=k[0],
                file=k[1],
                line=_hot_line(lines),
                own=c.own.get(k, 0),
                total=c.total.get(k, 0),
                own_percent=_pct(c.own.get(k, 0), n),
                total_percent=_pct(c.total.get(k, 0), n),
                own_seconds=c.own_s.get(k, 0.0),
                total_seconds=c.total_s.get(k, 0.0),
                base_own_percent=_pct(b.own.get(k, 0), nb),
                base_total_percent=_pct(b.total.get(k, 0), nb),
                delta_total_points=delta(k),
            )
        )
    return Report(_summary(name, profile, c), tuple(rows), _summary(baseline_name, baseline, b))


# ---- JSON -------------------------------------------------------------------------


def _round(value: float) -> float:
    return round(value, 4)


def metadata_json(meta: Metadata) -> dict[str, Any]:
    """Every Metadata field, always present: "" / 0 / null / [] / {} when unknown."""
    out: dict[str, Any] = {}
    for f in fields(meta):
        value = getattr(meta, f.name)
        if f.name == "cmdline":
            out[f.name] = list(value)
        elif f.name == "extra":
            out[f.name] = dict(value)
        else:
            out[f.name] = value
    return out


def _summary_json(s: ProfileSummary, fmt: str) -> dict[str, Any]:
    return {
        "file": s.name,
        "format": fmt,
        "metadata": metadata_json(s.metadata),
        "totals": {
            "samples": s.samples,
            "seconds": _round(s.seconds),
            "functions": s.functions,
            "threads": s.threads,
            "rate_hz": _round(s.rate),
        },
    }


def _row_json(row: FunctionRow, with_baseline: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "function": row.function,
        "file": row.file,
        "line": row.line,
        "own_samples": row.own,
        "total_samples": row.total,
        "own_percent": _round(row.own_percent),
        "total_percent": _round(row.total_percent),
        "own_seconds": _round(row.own_seconds),
        "total_seconds": _round(row.total_seconds),
    }
    if with_baseline:
        out["baseline_own_percent"] = _round(row.base_own_percent or 0.0)
        out["baseline_total_percent"] = _round(row.base_total_percent or 0.0)
        out["delta_total_points"] = _round(row.delta_total_points or 0.0)
    return out


def report_json(report: Report, top: int, fmt: str = "", baseline_fmt: str = "") -> dict[str, Any]:
    """The `flametop.report/2` document (see README): schema, profile, baseline, rows."""
    rows: Iterable[FunctionRow] = report.top(top)
    with_baseline = report.baseline is not None
    doc: dict[str, Any] = {"schema": SCHEMA}
    doc.update(_summary_json(report.profile, fmt))
    doc["sort"] = "abs_delta_total" if with_baseline else "own"
    doc["baseline"] = (
        None if report.baseline is None else _summary_json(report.baseline, baseline_fmt)
    )
    doc["rows_total"] = len(report.rows)
    doc["rows"] = [_row_json(r, with_baseline) for r in rows]
    return doc
