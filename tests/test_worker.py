"""The sampling loop answers at once: a view asked for while it waits, and a batch a
sampler announces, are handled in the same turn, not after a poll timeout."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from support_app import HOT, second

import samplers.session.live
from samplers.model import Health, SampleBatch, SamplingOptions
from samplers.session.live import LoopUpdate, SamplingLoop
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree

FOREVER = 3600.0  # a wait that would fail any test that sat through it


class _Sampler:
    """Batches fed by the test. `announces`: it calls on_news as PySpySampler does.
    `poll(timeout)` blocks for the whole timeout when nothing is queued, like a queue."""

    modes_are_views = False

    def __init__(self, announces: bool) -> None:
        self.announces = announces
        self.on_news: Callable[[], None] | None = None
        self.options = SamplingOptions()
        self._queue: queue.Queue[SampleBatch] = queue.Queue()
        self.blocking_polls = 0

    @property
    def health(self) -> Health:
        return Health(rate=100.0, state="running")

    @property
    def finished(self) -> bool:
        return False

    def start(self) -> None:
        pass

    def poll(self, timeout: float) -> SampleBatch | None:
        if timeout > 0:
            self.blocking_polls += 1
        try:
            return self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def stop(self) -> None:
        pass

    def configure(self, options: SamplingOptions) -> None:
        self.options = options

    def feed(self, batch: SampleBatch) -> None:
        self._queue.put(batch)
        if self.announces and self.on_news is not None:
            self.on_news()


@contextmanager
def _running(sampler: _Sampler) -> Iterator[tuple[SamplingLoop, list[LoopUpdate]]]:
    loop = SamplingLoop(
        sampler, StackTree(), poll_timeout=FOREVER, snapshot_interval=0.0, reading_interval=FOREVER
    )
    updates: list[LoopUpdate] = []
    thread = threading.Thread(target=loop.run, args=(updates.append, lambda: False), daemon=True)
    thread.start()
    try:
        yield loop, updates
    finally:
        loop.stop()
        thread.join(5)


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _shown(updates: list[LoopUpdate], view: View, samples: int) -> bool:
    return any(
        u.view == view and u.snapshot is not None and u.snapshot.total_samples == samples
        for u in list(updates)
    )


@pytest.fixture
def no_idle_wakeups(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without them only the wake-ups under test can end a wait.
    monkeypatch.setattr(samplers.session.live, "MAX_SLEEP", FOREVER)
    monkeypatch.setattr(samplers.session.live, "STATUS_INTERVAL", FOREVER)


@pytest.mark.usefixtures("no_idle_wakeups")
@pytest.mark.parametrize("announces", [True, False], ids=["on_news", "plain poll"])
def test_a_view_asked_for_while_the_loop_waits_is_built_at_once(announces: bool) -> None:
    # GIVEN a loop showing one second of samples, then waiting for more
    sampler = _Sampler(announces)
    with _running(sampler) as (loop, updates):
        sampler.feed(second(0))
        _wait(lambda: _shown(updates, View(), 100))
        # WHEN the user asks for another view while nothing arrives
        view = View(window_s=5.0, filter=HOT.function)
        loop.request_view(view)
        # THEN it is built and published without waiting out the poll timeout
        _wait(lambda: any(u.view == view and u.snapshot is not None for u in list(updates)))


@pytest.mark.usefixtures("no_idle_wakeups")
def test_a_sampler_that_announces_batches_is_never_waited_on_in_poll() -> None:
    # GIVEN a sampler with an on_news hook
    sampler = _Sampler(announces=True)
    with _running(sampler) as (_, updates):
        # WHEN batches arrive one after another
        for i in range(3):
            sampler.feed(second(i))
            # THEN each is shown as it arrives
            _wait(lambda i=i: _shown(updates, View(), 100 * (i + 1)))  # type: ignore[misc]
    # AND the loop slept on its own event, never blocking inside poll()
    assert sampler.blocking_polls == 0
