"""What the header says of the sampler's health: the current rate and coverage where they
measure loss, and neither where idle instants are unseen (py-spy's CLI in cpu mode)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from support_app import T0, FixedClock, ScriptedSampler, second, sync, wait_for

from samplers.model import Health, Metadata
from tui.app import FlametopApp
from tui.widgets.header import FlametopHeader


class CliLikeSampler(ScriptedSampler):
    """Health as the py-spy CLI backend gives it, idle instants unseen or not."""

    def __init__(self, idle_unseen: bool) -> None:
        super().__init__([second(i) for i in range(5)])
        self.idle_unseen = idle_unseen

    @property
    def health(self) -> Health:
        return replace(
            super().health, achieved_rate=31.0, coverage=0.31, idle_unseen=self.idle_unseen
        )


def _app(sampler: ScriptedSampler, tmp_path: Path) -> FlametopApp:
    return FlametopApp(
        sampler,
        target="pid 4242 python app.py",
        metadata=Metadata(pid=4242, rate=100.0, mode="cpu"),
        save_dir=tmp_path,
        clock=FixedClock(T0 + 10),
        snapshot_interval=0.05,
    )


async def _header_line(app: FlametopApp) -> str:
    header = app.query_one(FlametopHeader)
    await wait_for(lambda: header.info.coverage is not None or header.info.achieved_rate is None)
    return str(header.text)


@sync
async def test_idle_instants_unseen_shows_the_asked_rate_and_no_coverage(tmp_path: Path) -> None:
    # GIVEN a sampler that cannot see idle instants (a mostly idle target in cpu mode)
    app = _app(CliLikeSampler(idle_unseen=True), tmp_path)
    async with app.run_test(size=(160, 30)):
        line = await _header_line(app)
    # THEN the header gives the asked rate only: 31% would read as loss, and it is not
    assert "100 Hz" in line and "31/100" not in line
    assert "coverage" not in line and "31%" not in line


@sync
async def test_a_sampler_that_sees_every_instant_shows_rate_and_coverage(tmp_path: Path) -> None:
    # GIVEN a sampler that sees idle instants too: a shortfall is a real loss
    app = _app(CliLikeSampler(idle_unseen=False), tmp_path)
    async with app.run_test(size=(160, 30)):
        line = await _header_line(app)
    # THEN the header shows what it achieved of what was asked, and the coverage
    assert "31/100 Hz" in line and "31% coverage" in line
