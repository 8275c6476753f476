"""The top table as a user meets it: a header with the sort marker, rows that keep the
cursor and the scroll position across refreshes, keys and clicks, hostile names shown
literally, NO_COLOR; and a check that it stays on Textual's public API."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

import pytest
from support_app import sync
from textual.app import App, ComposeResult
from textual.scroll_view import ScrollView

from samplers.model import Frame
from samplers.tree.snapshot import CallNode, FunctionStat, Snapshot, View
from tui.widgets.top_table import TopTable

MODULE = Path(__file__).resolve().parents[1] / "tui" / "widgets" / "top_table.py"


def _snapshot(n: int = 4, view: View | None = None, total: int = 2000, hot: int = 0) -> Snapshot:
    """`n` functions, own time falling with the index; function `hot` made the hottest."""
    view = view or View()
    names = [
        ("hot_loop", "app.py", 0),
        ("[bold red]markup[/]", "m.py", 0),  # must stay literal text
        ("esc\x1b[31mred", "e.py", 0),  # the escape sequence must not reach the screen
        ("日本語の関数", "wide.py", 0),  # double-width characters
    ]
    names += [(f"f{i}", "more.py", 0) for i in range(len(names), n)]
    stats = tuple(
        FunctionStat(
            key=Frame(fn, file, line),
            own=5000 if i == hot else 1000 - 9 * i,
            total=1500 - 8 * i,
            own_seconds=(1000 - 9 * i) / 100,
            total_seconds=(1500 - 8 * i) / 100,
            history=(0.1, 0.5, 1.0, 0.0) * 3,
            delta_total=None if view.baseline is None else (3.5 if i % 2 else -2.25),
        )
        for i, (fn, file, line) in enumerate(names[:n])
    )
    return Snapshot(
        version=1,
        view=view,
        t_start=0.0,
        t_end=10.0,
        first_t=0.0,
        last_t=10.0,
        total_samples=total,
        functions=stats,
        root=CallNode(frame=None, total=total, own=0, children=()),
        threads=(),
        rate=100.0,
        mode="cpu",
    )


class _TableApp(App[None]):
    AUTO_FOCUS = None  # tests focus a table themselves

    def __init__(self, tables: int = 1, ansi_color: bool = False) -> None:
        super().__init__(ansi_color=ansi_color)
        self.tables = tables
        self.highlighted: list[Frame | None] = []

    def compose(self) -> ComposeResult:
        for i in range(self.tables):
            yield TopTable(id=f"t{i}")

    def on_top_table_function_highlighted(self, event: TopTable.FunctionHighlighted) -> None:
        self.highlighted.append(event.frame)


def _text(table: TopTable, y: int) -> str:
    return table.render_line(y).text


def _functions(table: TopTable) -> list[str]:
    return [str(table.get_cell(row.key, "function")) for row in table.ordered_rows]


@sync
async def test_header_and_rows_show_the_columns_and_the_values() -> None:
    # GIVEN a table 100 cells wide showing four functions
    app = _TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TopTable)
        table.show(_snapshot())
        await pilot.pause()
        # THEN the header names every column and marks the sort column
        header = _text(table, 0)
        for label in ("%Own ▼", "%Total", "OwnTime", "TotalTime", "Function (file)", "history"):
            assert label in header
        # AND the rows are in %Own order with their values, sparkline included
        assert "hot_loop (app.py)" in _text(table, 1) and "50.0" in _text(table, 1)
        assert "▂▅█▁" in _text(table, 1)
        # AND hostile names are shown literally, without their escape sequence
        assert "[bold red]markup[/] (m.py)" in _text(table, 2)
        assert "\x1b" not in _text(table, 3) and "escred (e.py)" in _text(table, 3)
        assert "日本語の関数 (wide.py)" in _text(table, 4)
        markup_line = table.render_line(2)
        assert not any(seg.style and seg.style.bold for seg in markup_line if "markup" in seg.text)
        # AND every line is exactly as wide as the table
        assert all(table.render_line(y).cell_length == table.size.width for y in range(6))


@sync
async def test_the_cursor_stays_on_top_until_moved_then_follows_its_function() -> None:
    app = _TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TopTable)
        table.focus()
        table.show(_snapshot(n=30))
        await pilot.pause()
        assert table.selected_frame is not None and table.selected_frame.function == "hot_loop"
        # WHEN another function becomes the hottest before the user touched the table
        table.show(_snapshot(n=30, hot=5))
        await pilot.pause()
        # THEN the cursor is still on the top row, now that function
        assert table.cursor_row == 0 and table.selected_frame.function == "f5"
        assert app.highlighted[-1] == table.selected_frame
        # WHEN the user goes down far enough to scroll, and the order changes again
        await pilot.press(*["down"] * 15)
        chosen, scrolled = table.selected_frame, table.scroll_y
        assert chosen is not None and scrolled > 0
        table.show(_snapshot(n=30, hot=5, total=4000))
        await pilot.pause()
        # THEN the cursor and the scroll position stayed, with the new values shown
        assert table.selected_frame == chosen and table.scroll_y == scrolled
        assert "62.5" not in _text(table, 1) and "125.0" in table.get_cell("r0", "own")
        table.show(_snapshot(n=30, hot=20))
        await pilot.pause()
        # AND when the function moves up the cursor goes with it
        assert table.selected_frame == chosen and table.cursor_row == 16


@sync
async def test_keys_move_the_cursor_and_keep_it_in_view() -> None:
    app = _TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TopTable)
        table.focus()
        table.show(_snapshot(n=50))
        await pilot.pause()
        page = table.size.height - 1  # the header stays
        steps = [
            (("down", "j", "j"), 3),
            (("k",), 2),
            (("up",), 1),
            (("pagedown",), 1 + page),
            (("pageup",), 1),
            (("G",), 49),
            (("g",), 0),
            (("end",), 49),
            (("home",), 0),
        ]
        for keys, row in steps:
            # WHEN the user presses the keys THEN the cursor is on the row, on screen
            await pilot.press(*keys)
            await pilot.pause()
            assert table.cursor_row == row, keys
            top = round(table.scroll_y)
            assert top <= row < top + page, keys
            assert table.selected_frame == table.ordered_rows[row].frame
        assert app.highlighted[-1] == table.ordered_rows[0].frame


@sync
async def test_clicks_select_a_row_and_sort_by_a_header() -> None:
    app = _TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TopTable)
        table.show(_snapshot())
        await pilot.pause()
        # WHEN the user clicks the third row THEN it is selected
        await pilot.click(TopTable, offset=(40, 3))
        assert table.cursor_row == 2
        # WHEN the user clicks the %Total header THEN the table sorts by it, marked
        await pilot.click(TopTable, offset=(11, 0))
        await pilot.pause()
        assert table.sort_by == "total"
        assert "%Tot ▼" in _text(table, 0) and "%Own " in _text(table, 0)
        assert "%Total ▼" in str(next(c for c in table.columns.values() if c.name == "total").label)
        # AND a click on the function header (not a sort key) changes nothing
        await pilot.click(TopTable, offset=(60, 0))
        assert table.sort_by == "total"


@sync
async def test_sort_reorders_and_resize_relays_out_without_losing_the_function() -> None:
    app = _TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(TopTable)
        table.show(_snapshot(n=6, hot=3))
        await pilot.pause()
        # WHEN sorted by TotalTime THEN the largest total leads
        table.sort_by = "total_s"
        await pilot.pause()
        assert _functions(table)[0] == "hot_loop (app.py)"
        assert "TotalTi ▼" in _text(table, 0)
        # WHEN the terminal narrows to 60 columns THEN TotalTime goes, the rest fits
        table.select_frame(Frame("f5", "more.py", 0))
        await pilot.resize_terminal(60, 12)
        await pilot.pause()
        assert "TotalT" not in _text(table, 0) and "f5 (more.py)" in _text(table, 6)
        assert table.selected_frame == Frame("f5", "more.py", 0)
        assert table.virtual_size.width <= 60
        # AND telling functions apart by line renames the function column
        table.show(_snapshot(n=6, view=View(by_line=True)))
        await pilot.pause()
        assert "Function (file:li" in _text(table, 0)  # cut to the 16 cells it has at 60


@sync
async def test_growth_is_bold_and_shrinkage_italic_in_the_delta_column() -> None:
    app = _TableApp()
    async with app.run_test(size=(160, 12)) as pilot:
        table = app.query_one(TopTable)
        table.show(_snapshot(view=View(baseline=(0.0, 5.0))))
        await pilot.pause()
        assert "Δ%Total" in _text(table, 0)
        # (row 1 holds the cursor, bold itself)
        grew = next(s for s in table.render_line(2) if s.text.strip() == "+3.5")
        shrank = next(s for s in table.render_line(3) if s.text.strip() == "-2.2")
        assert shrank.style is not None and shrank.style.italic and not shrank.style.bold
        assert grew.style is not None and grew.style.bold


@sync
async def test_no_color_paints_no_colour_and_still_shows_the_cursor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN NO_COLOR, set up as the app does it (ANSI colours, which NO_COLOR then drops)
    monkeypatch.setenv("NO_COLOR", "1")
    app = _TableApp(ansi_color=True)
    async with app.run_test(size=(100, 8)) as pilot:
        table = app.query_one(TopTable)
        table.focus()
        table.show(_snapshot())
        await pilot.pause()
        svg = app.export_screenshot()
    classes = dict(re.findall(r"\.terminal-\d+-(r\d+) \{ ([^}]*) \}", svg))
    # THEN all text is in one colour, the terminal's own
    assert len({re.sub(r";.*", "", css) for css in classes.values()}) == 1
    # AND the cursor row is told apart by weight: bold, the row under it not
    texts = re.findall(r'<text class="terminal-\d+-(r\d+)"[^>]*>([^<]*)</text>', svg)
    cursor = next(cls for cls, text in texts if "250.0" in text)
    other = next(cls for cls, text in texts if "markup" in text)
    assert "bold" in classes[cursor] and "bold" not in classes[other]


@sync
async def test_reused_lines_match_a_fresh_paint_after_new_values_and_cursor_moves() -> None:
    # GIVEN two tables, one painted with earlier values before it gets the new ones
    app = _TableApp(tables=2)
    async with app.run_test(size=(100, 24)) as pilot:
        reused, fresh = app.query(TopTable)
        reused.show(_snapshot(n=8))
        await pilot.pause()
        # WHEN new values arrive and the cursor moves, on both
        for table in (reused, fresh):
            table.show(replace(_snapshot(n=8, hot=2), total_samples=4000))
            table.move_cursor(row=3)
        await pilot.pause()
        # THEN every line of the reused table is what the fresh one paints
        for y in range(reused.size.height):
            assert reused.render_line(y).text == fresh.render_line(y).text, y
            assert list(reused.render_line(y)) == list(fresh.render_line(y)), y


def _private_textual_names() -> set[str]:
    widget = ScrollView()
    names = set(dir(widget)) | set(vars(widget))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def test_the_table_uses_no_private_part_of_textual() -> None:
    # GIVEN the widget's source
    tree = ast.parse(MODULE.read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    # THEN it imports no private Textual module
    textual_modules = [n.module for n in imports if (n.module or "").startswith("textual")]
    assert textual_modules and not [m for m in textual_modules if "._" in m]
    # AND every _name it reads or writes is its own, none of Textual's
    used = {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.startswith("__")
    }
    defined = {
        t.attr
        for n in ast.walk(tree)
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
    } | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert used <= defined, sorted(used - defined)
    assert not used & _private_textual_names(), sorted(used & _private_textual_names())
    # AND it is not a DataTable underneath
    bases = {ast.unparse(b) for n in ast.walk(tree) if isinstance(n, ast.ClassDef) for b in n.bases}
    assert "DataTable" not in " ".join(bases)
