"""The top table's layout without an App: which columns fit, what the cells say, how they
are fitted, where a click lands."""

from __future__ import annotations

from rich.cells import cell_len

from samplers.model import Frame
from samplers.tree.snapshot import CallNode, FunctionStat, Snapshot, View
from tui.render.top_rows import (
    MAX_ROWS,
    cell_values,
    column_at,
    emphasis,
    fit,
    header_text,
    layout_columns,
    ranked,
    table_width,
)


def _stat(name: str, own: int, total: int, **kw: object) -> FunctionStat:
    return FunctionStat(
        key=Frame(name, "app.py", 0),
        own=own,
        total=total,
        own_seconds=own / 100,
        total_seconds=total / 100,
        history=(0.0, 0.5, 1.0),
        **kw,  # type: ignore[arg-type]
    )


def _snapshot(stats: tuple[FunctionStat, ...], view: View | None = None) -> Snapshot:
    return Snapshot(
        version=1,
        view=view or View(),
        t_start=0.0,
        t_end=10.0,
        first_t=0.0,
        last_t=10.0,
        total_samples=1000,
        functions=stats,
        root=CallNode(frame=None, total=1000, own=0, children=()),
        threads=(),
        rate=100.0,
        mode="cpu",
    )


def _names(width: int) -> list[str]:
    cols = layout_columns(width, sort_by="own", with_delta=False, by_line=False)
    return [c.name for c in cols]


def test_columns_fit_the_width_from_80_up_and_drop_total_time_when_narrow() -> None:
    for width in (80, 100, 160, 300):
        # GIVEN a terminal `width` cells wide WHEN the table is laid out
        columns = layout_columns(width, sort_by="own", with_delta=False, by_line=False)
        # THEN every column is there and the table fits beside the scrollbar
        assert [c.name for c in columns] == [
            "own",
            "total",
            "own_s",
            "total_s",
            "function",
            "history",
        ]
        assert table_width(columns) <= width - 2

    # AND names get room first; the history grows once they have 90 cells, up to 40
    def widths(width: int) -> tuple[int, int]:
        cols = {
            c.name: c.width
            for c in layout_columns(width, sort_by="own", with_delta=False, by_line=False)
        }
        return cols["function"], cols["history"]

    assert widths(100) == (48, 8) and widths(160) == (90, 26) and widths(300)[1] == 40
    # AND under 70 cells TotalTime goes
    assert "total_s" not in _names(60)


def test_a_baseline_adds_the_delta_column_and_by_line_renames_the_function_column() -> None:
    columns = layout_columns(120, sort_by="total", with_delta=True, by_line=True)
    labels = {c.name: c.label for c in columns}
    assert labels["delta"] == "Δ%Total"
    assert labels["function"] == "Function (file:line)"
    # AND only the sort column carries the marker
    assert labels["total"] == "%Total ▼" and labels["own"] == "%Own"


def test_header_cells_keep_the_sort_marker_visible_in_narrow_columns() -> None:
    columns = {
        c.name: c for c in layout_columns(100, sort_by="own_s", with_delta=False, by_line=False)
    }
    # THEN the marked label is shortened to fit, the others are aligned as their values
    assert header_text(columns["own_s"]) == "OwnTi ▼"
    assert header_text(columns["own"]) == "  %Own"
    assert header_text(columns["function"]).startswith("Function (file)")
    for column in columns.values():
        assert cell_len(header_text(column)) == column.width


def test_cells_say_the_shares_the_times_the_name_and_the_history() -> None:
    stat = _stat("[red]x\x1b[2J", 250, 1500, delta_total=-1.25)
    snap = _snapshot((stat,), View(baseline=(0.0, 5.0)))
    columns = layout_columns(120, sort_by="own", with_delta=True, by_line=False)
    values = dict(zip([c.name for c in columns], cell_values(stat, snap, columns), strict=True))
    # THEN shares are of all samples (a total is capped at 100%), times human-readable
    assert values["own"] == " 25.0" and values["total"] == "100.0"
    assert values["own_s"] == "2.5s" and values["total_s"] == "15.0s"
    assert values["delta"] == "-1.2"
    # AND the name is cleaned of escape sequences but markup-looking text stays literal
    assert values["function"] == "[red]x (app.py)"
    # AND the history is a sparkline as wide as its column, newest on the right
    history = next(c for c in columns if c.name == "history")
    assert len(values["history"]) == history.width and values["history"].endswith("▁▅█")


def test_fit_pads_aligns_and_cuts_with_an_ellipsis() -> None:
    assert fit("12.5", 6, "right") == "  12.5"
    assert fit("name", 6, "left") == "name  "
    assert fit("a_long_name", 6, "left") == "a_lon…"
    assert fit("日本語の関数", 7, "left") == "日本語…"  # wide characters counted as two cells
    assert fit("123456789", 4, "right") == "1234"
    assert fit("x", 0, "left") == ""


def test_growth_is_bold_shrinkage_italic_and_nothing_else_is_emphasised() -> None:
    assert emphasis("delta", "+2.0") == "bold"
    assert emphasis("delta", "-2.0") == "italic"
    assert emphasis("delta", "") == ""
    assert emphasis("own", "+2.0") == ""


def test_rows_are_ranked_by_the_sort_key_and_capped() -> None:
    stats = tuple(_stat(f"f{i}", own=i, total=1000 - i) for i in range(MAX_ROWS + 20))
    snap = _snapshot(stats)
    by_own = ranked(snap, "own")
    assert len(by_own) == MAX_ROWS and by_own[0].key.function == f"f{MAX_ROWS + 19}"
    assert ranked(snap, "total")[0].key.function == "f0"


def test_a_click_lands_in_the_column_under_it_padding_included() -> None:
    columns = layout_columns(100, sort_by="own", with_delta=False, by_line=False)
    own, total = columns[0], columns[1]
    assert column_at(columns, 0) == own and column_at(columns, own.outer_width - 1) == own
    assert column_at(columns, own.outer_width) == total
    assert column_at(columns, table_width(columns)) is None
    assert column_at(columns, -1) is None
