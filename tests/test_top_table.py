"""The top table draws its cells itself (a fast path past Rich's Padding/Text pipeline):
what it draws must be what DataTable's stock path draws, character and style alike."""

from __future__ import annotations

from dataclasses import replace

from support_app import sync
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from samplers.model import Frame
from samplers.tree.snapshot import CallNode, FunctionStat, Snapshot, View
from tui.widgets.top_table import TopTable


def _snapshot(view: View) -> Snapshot:
    names = [
        ("hot_loop", "app.py", 0),
        ("a_function_with_a_name_long_enough_to_be_cut_" * 3, "/very/long/path/x.py", 12),
        ("日本語の関数", "wide.py", 0),  # double-width characters
        ("crunch", "", 0),
    ]
    stats = tuple(
        FunctionStat(
            key=Frame(fn, file, line),
            own=1000 - 90 * i,
            total=1500 - 80 * i,
            own_seconds=(1000 - 90 * i) / 100,
            total_seconds=123456.0 if i == 1 else (1500 - 80 * i) / 100,
            history=(0.1, 0.5, 1.0, 0.0) * 3,
            delta_total=None if view.baseline is None else (3.5 if i % 2 else -2.25),
        )
        for i, (fn, file, line) in enumerate(names)
    )
    return Snapshot(
        version=1,
        view=view,
        t_start=0.0,
        t_end=10.0,
        first_t=0.0,
        last_t=10.0,
        total_samples=2000,
        functions=stats,
        root=CallNode(frame=None, total=2000, own=0, children=()),
        threads=(),
        rate=100.0,
        mode="cpu",
    )


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TopTable(id="table")


def _cells(lines: list[list[object]]) -> list[tuple[str, object]]:
    """Character by character (text, style): the same picture however it is segmented."""
    out: list[tuple[str, object]] = []
    for line in lines:
        for seg in line:
            out += [(ch, seg.style) for ch in seg.text]  # type: ignore[attr-defined]
    return out


@sync
async def test_fast_cells_look_exactly_like_datatable_cells() -> None:
    for width, view in ((100, View()), (160, View(baseline=(0.0, 5.0))), (60, View())):
        # GIVEN a table showing long, wide, plain and Δ cells
        app = _TableApp()
        async with app.run_test(size=(width, 12)) as pilot:
            table = app.query_one(TopTable)
            table.show(_snapshot(view))
            await pilot.pause()
            style = table.rich_style
            for row in range(table.row_count):
                for column, col in enumerate(table.ordered_columns):
                    w = col.get_render_width(table)
                    for cursor, hover in ((False, False), (True, False), (False, True)):
                        # WHEN a cell is drawn by the fast path and by DataTable's own
                        fast = table._render_cell(row, column, style, w, cursor, hover)
                        table._update_count += 1  # no cached answer from the stock path
                        stock = DataTable._render_cell(table, row, column, style, w, cursor, hover)
                        # THEN they are the same characters in the same styles
                        assert _cells(fast) == _cells(stock), (row, col.key.value, cursor, hover)
            # AND after a refresh with other values the table keeps agreeing with its data
            table.show(replace(_snapshot(view), total_samples=4000))
            await pilot.pause()
            for row in table.ordered_rows:
                assert str(table.get_cell(row.key, "own")).strip() in {
                    "25.0",
                    "22.8",
                    "20.5",
                    "18.2",
                }


def _line(strip: object) -> list[tuple[str, object]]:
    return [(ch, seg.style) for seg in strip for ch in seg.text]  # type: ignore[attr-defined]


@sync
async def test_reused_lines_follow_new_values_and_the_cursor() -> None:
    # GIVEN a table that has drawn its rows once
    app = _TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TopTable)
        table.show(_snapshot(View()))
        await pilot.pause()
        # WHEN new values arrive and the cursor moves down a row
        table.show(replace(_snapshot(View()), total_samples=4000))
        table.move_cursor(row=1)
        await pilot.pause()
        # THEN every line is what DataTable itself draws for the new state
        style = table.rich_style
        for y in range(1 + table.row_count):
            ours = table._render_line(y, 0, table.size.width, style)
            table._update_count += 1
            stock = DataTable._render_line(table, y, 0, table.size.width, style)
            assert _line(ours) == _line(stock), y
        assert "25.0" in "".join(ch for ch, _ in _line(table._render_line(1, 0, 100, style)))
