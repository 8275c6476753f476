"""How the in-process sampler accounts for instants it could not read: counted always;
told to the user at most every READ_ERROR_EVERY_S when reads pause the target, never
when they race it (--nonblocking, flametop's own child): a notice per batch covered the
screen."""

from __future__ import annotations

import pytest

from samplers.backends import streaming
from samplers.backends.streaming import StreamingSampler
from samplers.model import SamplingOptions


def _raw_batch(t0: float, errors: int, last_error: str) -> tuple[object, ...]:
    frames = [("busy", "app.py", 3)]
    stacks = [[0]]
    threads = [(42, 7, "MainThread")]
    counts = [(42, 7, 0, True, True, 20 - errors)]
    return (t0, t0 + 0.2, 20, 0, 0, 1, errors, last_error, frames, stacks, threads, counts)


@pytest.mark.skipif(streaming._native is None, reason="native/ not built")
def test_unreadable_instants_are_counted_each_time_and_told_once() -> None:
    # GIVEN a sampler whose batches each hold a few unreadable instants
    sampler = StreamingSampler(42)
    for i in range(10):
        sampler._hand_over(_raw_batch(100.0 + 0.2 * i, 2, f"pid 42: Bad address ({i})"))
    health = sampler.health
    # THEN every unreadable instant is counted
    assert health.sampling_errors == 20
    # AND the user is told once, not once per batch
    assert len(health.errors) == 1
    assert "some instants could not be read" in health.errors[0]


@pytest.mark.skipif(streaming._native is None, reason="native/ not built")
def test_reads_that_race_a_running_target_are_counted_not_shown() -> None:
    # GIVEN a nonblocking sampler (it never pauses the target, so torn reads happen)
    sampler = StreamingSampler(42)
    sampler.configure(SamplingOptions(nonblocking=True))
    for i in range(10):
        sampler._hand_over(_raw_batch(100.0 + 0.2 * i, 2, f"pid 42: Bad address ({i})"))
    health = sampler.health
    # THEN they are counted, and no error reaches the screen
    assert health.sampling_errors == 20
    assert health.errors == ()
