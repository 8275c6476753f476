"""ReplaySampler timing with a fake clock, health, looping; synthetic profiles."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from samplers.backends.replay import ReplaySampler, synthetic_profile
from samplers.clock import FakeClock
from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch, SystemReading

T0 = 5_000.0
STACK = (Frame("main", "a.py", 1), Frame("hot", "a.py", 2))


def profile(seconds: int = 3, per_second: int = 100, gap: float = 0.0) -> Profile:
    batches = tuple(
        SampleBatch(
            T0 + i * (1 + gap),
            T0 + i * (1 + gap) + 1,
            (Sample("t", STACK, per_second),),
            "cpu",
            100.0,
        )
        for i in range(seconds)
    )
    readings = tuple(SystemReading(t=T0 + i + 0.5, cpu_percent=float(i)) for i in range(seconds))
    return Profile(Metadata(rate=100.0), batches, readings)


def test_batches_come_when_their_time_has_come_at_1x() -> None:
    # GIVEN a 3 s profile replayed at 1x on a fake clock
    clock = FakeClock()
    replay = ReplaySampler(profile(), speed=1.0, clock=clock)
    replay.start()
    # WHEN polled without waiting before and after the first batch's end
    early = replay.poll(0)
    clock.advance(0.99)
    still_early = replay.poll(0)
    clock.advance(0.01)
    first = replay.poll(0)
    # THEN nothing comes early and the first batch comes at 1 s, with its recorded times
    assert early is None and still_early is None
    assert first is not None and (first.t_start, first.t_end) == (T0, T0 + 1)
    assert not replay.finished


def test_poll_waits_up_to_its_timeout_on_the_clock() -> None:
    # GIVEN a replay at 2x speed
    clock = FakeClock()
    replay = ReplaySampler(profile(), speed=2.0, clock=clock)
    start = clock.time()
    replay.start()
    # WHEN polled with a short timeout, then a long one
    short = replay.poll(0.2)
    waited = clock.time() - start
    second_poll = replay.poll(10.0)
    # THEN the short poll gives up after 0.2 s; the long one returns once the batch is
    # due (1 s of profile = 0.5 s of clock at 2x), not after the whole timeout
    assert short is None and waited == pytest.approx(0.2)
    assert second_poll is not None and clock.time() - start == pytest.approx(0.5)


def test_speed_zero_replays_everything_at_once_then_finishes() -> None:
    # GIVEN a replay as fast as possible
    clock = FakeClock()
    replay = ReplaySampler(profile(seconds=4), speed=0, clock=clock)
    # WHEN iterated
    batches = list(replay)
    # THEN all batches arrive without the clock moving, and the sampler is finished
    assert len(batches) == 4 and clock.slept == []
    assert replay.finished and replay.health.state == "target-exited"
    assert replay.poll(1.0) is None


def test_health_reflects_what_was_replayed() -> None:
    # GIVEN a profile of three 1 s batches of 90 samples at 100 Hz, 0.5 s apart
    replay = ReplaySampler(profile(seconds=3, per_second=90, gap=0.5), speed=0, clock=FakeClock())
    replay.start()
    # WHEN two batches have been replayed
    replay.poll(0)
    replay.poll(0)
    health = replay.health
    # THEN counts, coverage and gaps describe those two batches
    assert health.samples == 180 and health.expected == pytest.approx(200.0)
    assert health.coverage == pytest.approx(0.9)
    assert health.chunks == 2 and health.last_gap_seconds == pytest.approx(0.5)
    assert health.achieved_rate == pytest.approx(180 / 2.5)
    assert health.state == "running"


def test_coverage_of_a_multithreaded_capture_counts_ticks_not_stacks() -> None:
    # GIVEN 3 s of two busy threads at 100 Hz: py-spy takes a stack of each thread per
    # tick, so 200 stacks a second is full coverage, as the live sampler counts it
    batches = tuple(
        SampleBatch(
            T0 + i,
            T0 + i + 1,
            (Sample("main", STACK, 100), Sample("worker", STACK, 100)),
            "cpu",
            100.0,
        )
        for i in range(3)
    )
    replay = ReplaySampler(Profile(Metadata(rate=100.0), batches), speed=0, clock=FakeClock())
    # WHEN it is all replayed
    list(replay)
    # THEN the header's figures read 100 Hz and 100%, not 200 Hz and 200%
    assert replay.health.coverage == pytest.approx(1.0)
    assert replay.health.achieved_rate == pytest.approx(100.0)


def test_loop_replays_again_shifted_in_time() -> None:
    # GIVEN a looping 2 s replay
    replay = ReplaySampler(profile(seconds=2), speed=0, clock=FakeClock(), loop=True)
    replay.start()
    # WHEN five batches are polled
    ends = []
    for _ in range(5):
        b = replay.poll(0)
        assert b is not None
        ends.append(b.t_end - T0)
    # THEN time keeps moving forward across passes and the replay never finishes
    assert ends == [1, 2, 3, 4, 5]
    assert not replay.finished


def test_changing_speed_keeps_the_position() -> None:
    # GIVEN a 1x replay 0.5 s in
    clock = FakeClock()
    replay = ReplaySampler(profile(), speed=1.0, clock=clock)
    replay.start()
    clock.advance(0.5)
    # WHEN sped up to 5x
    replay.set_speed(5.0)
    replay.configure(replace(replay.options, mode="wall"))
    clock.advance(0.09)
    too_soon = replay.poll(0)
    clock.advance(0.02)
    due = replay.poll(0)
    # THEN the remaining 0.5 s of profile take about 0.1 s; sampling options are ignored
    assert too_soon is None and due is not None
    assert replay.speed == 5.0


def test_readings_follow_the_replay() -> None:
    # GIVEN a replay with one reading in the middle of each second
    replay = ReplaySampler(profile(), speed=0, clock=FakeClock())
    replay.start()
    # WHEN one batch, then the rest, are replayed
    replay.poll(0)
    first = replay.readings()
    list(replay)
    rest = replay.readings()
    # THEN each reading is handed out once, when its time has been replayed
    assert [r.cpu_percent for r in first] == [0.0]
    assert [r.cpu_percent for r in rest] == [1.0, 2.0]


def test_an_empty_profile_finishes_at_start() -> None:
    # GIVEN a profile without batches
    replay = ReplaySampler(Profile(Metadata(), ()), clock=FakeClock())
    # WHEN started
    replay.start()
    # THEN it is finished and polls give nothing
    assert replay.finished and replay.poll(0.1) is None


def test_synthetic_profiles_are_deterministic_and_shaped_as_designed() -> None:
    # GIVEN two profiles with the same arguments and one with another seed
    a = synthetic_profile(n_stacks=500, seconds=20, rate=100, threads=3, seed=7)
    b = synthetic_profile(n_stacks=500, seconds=20, rate=100, threads=3, seed=7)
    c = synthetic_profile(n_stacks=500, seconds=20, rate=100, threads=3, seed=8)
    # WHEN compared and counted
    stacks = {s.stack for batch in a.batches for s in batch.samples}
    own = Counter[str]()
    for batch in a.batches:
        for s in batch.samples:
            own[s.stack[-1].function] += s.count
    # THEN equal arguments give equal profiles, every stack appears, 3 threads at 100 Hz,
    # and the hot function's share is near its designed 35%
    assert a == b and a != c
    assert len(stacks) == 500
    assert {s.thread for batch in a.batches for s in batch.samples} == {
        "MainThread",
        "worker-1",
        "worker-2",
    }
    assert a.total == 20 * 300
    assert own["crc32_update"] / a.total == pytest.approx(0.35, abs=0.04)
    assert max(len(s) for s in stacks) >= 10
