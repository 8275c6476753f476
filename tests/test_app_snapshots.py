"""Screen snapshots of the live App (pytest-textual-snapshot): fixed data, fixed clock,
at 80×24 and 160×48, in colour and with NO_COLOR. Update with `--snapshot-update` after
looking at the new SVGs."""

from __future__ import annotations

from typing import Any

import pytest
from support_app import steady_app, wait_for

SIZES = [(80, 24), (160, 48)]


def ready(*keys: str) -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await wait_for(lambda: app.shown is not None and app.shown.total_samples > 0)
        if keys:
            await pilot.press(*keys)
            await wait_for(lambda: app.shown is not None and app.shown.view == app.view)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(steady_app(), terminal_size=size, run_before=ready())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_screen_no_color(
    snap_compare: Any, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(steady_app(), terminal_size=size, run_before=ready())


def test_paused_and_filtered_with_hostile_names(snap_compare: Any) -> None:
    app = steady_app(hostile=30)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready("p", "slash", *"e", "enter"))


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(steady_app(), terminal_size=(80, 24), run_before=ready("question_mark"))
