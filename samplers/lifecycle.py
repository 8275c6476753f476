"""What every live sampler shares: the queue of finished batches, the end-of-sampling
event, the error list and the `on_news` hook the app's worker sleeps on."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from samplers.errors import FlametopError
from samplers.model import SampleBatch, SamplerState

MAX_ERRORS_KEPT = 20


class SamplerLifecycle:
    """Base of PySpySampler and AustinSampler: state kept under one lock, batches handed
    over through a queue, and `on_news` called whenever there is something to read."""

    def __init__(self) -> None:
        self._queue: queue.Queue[SampleBatch] = queue.Queue()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._errors: list[str] = []
        self._state: SamplerState = "starting"
        self.error: FlametopError | None = None  # why sampling stopped, when it failed
        # Called from the sampler's thread when a batch is queued or sampling ends, so
        # the app's worker can sleep on its own event instead of polling.
        self.on_news: Callable[[], None] | None = None

    @property
    def finished(self) -> bool:
        return self._done.is_set() and self._queue.empty()

    def poll(self, timeout: float) -> SampleBatch | None:
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)
            del self._errors[:-MAX_ERRORS_KEPT]

    def _finish(self, state: SamplerState, error: FlametopError | None = None) -> None:
        with self._lock:
            self._state = state
        if error is not None:
            self.error = error
            self._note_error(error.message)
        self._done.set()
        if self.on_news is not None:
            self.on_news()
