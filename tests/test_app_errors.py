"""The live App when the sampler or the engine fails: the error is shown and sampling
goes on (driven through Textual's Pilot like tests/test_app_pilot.py)."""

from __future__ import annotations

from pathlib import Path

from support_app import FixedClock, ScriptedSampler, screen_text, second, sync, wait_for
from test_app_pilot import SIZE, make_app, shows_samples

from samplers.tree.snapshot import Snapshot, View
from samplers.tree.stacktree import StackTree
from tui.app import FlametopApp
from tui.widgets.header import FlametopHeader


@sync
async def test_sampler_errors_show_and_sampling_goes_on(tmp_path: Path) -> None:
    sampler = ScriptedSampler([second(0)])
    app = make_app(sampler, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 100)
        # WHEN one poll fails
        sampler.poll_error = RuntimeError("py-spy exited with 1: boom")
        await wait_for(lambda: app.query_one(FlametopHeader).info.error is not None)
        await pilot.pause()
        # THEN the header and a notification say so, and later batches still arrive
        assert "boom" in screen_text(app)
        assert any(sev == "error" and "boom" in m for sev, m in app.notices)
        sampler.feed(second(1))
        await shows_samples(app, 200)
        await pilot.press("m")
        await wait_for(lambda: sampler.configured == [{"mode": "wall"}])
        assert app.query_one(FlametopHeader).info.pending_mode == "wall"


class FlakyTree(StackTree):
    """A StackTree whose next snapshot fails once, as a bug in the engine would."""

    fail_next = False

    def snapshot(self, view: View | None = None, baseline_of: StackTree | None = None) -> Snapshot:
        if self.fail_next:
            self.fail_next = False
            raise ValueError("engine bug")
        return super().snapshot(view, baseline_of)


@sync
async def test_an_engine_error_is_reported_and_the_loop_keeps_going(tmp_path: Path) -> None:
    tree = FlakyTree(rate=100.0)
    sampler = ScriptedSampler([second(0)])
    app = FlametopApp(
        sampler, tree=tree, save_dir=tmp_path, clock=FixedClock(), snapshot_interval=0.05
    )
    async with app.run_test(size=SIZE):
        await shows_samples(app, 100)
        # WHEN building a snapshot fails once
        tree.fail_next = True
        sampler.feed(second(1))
        await wait_for(lambda: any("engine bug" in m for _, m in app.notices))
        # THEN the next data is still shown
        sampler.feed(second(2))
        await shows_samples(app, 300)
