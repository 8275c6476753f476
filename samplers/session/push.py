"""Continuous push: `record --server` cuts the stream of batches into contiguous
intervals (each one's `from` is the previous one's `until`) and sends each as a profile.

Every interval is spooled first (samplers/session/spool.py) and a sender thread sends the
spool oldest first, so an interval survives an outage, a slow server or a stop signal
the same way. A send that fails for a reason that may pass (unreachable, timeout, 429,
5xx, auth) leaves the file and waits, 1 s doubling to a minute; one the server rejected
as a body (400, 413, 415, 422) is removed and counted as refused. At stop: one last try,
in order, until the first failure; what is left stays spooled for `flametop upload
--spool`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from samplers.errors import FlametopError, UploadError
from samplers.model import Metadata, Profile, SampleBatch
from samplers.session.spool import DEFAULT_MAX_AGE, DEFAULT_MAX_BYTES, Spool, SpoolItem
from samplers.session.upload import Server, Upload, profile_upload, send

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0


@dataclass(frozen=True, slots=True)
class PushStatus:
    sent: int = 0
    spooled: int = 0  # waiting in the spool now
    dropped: int = 0  # removed to keep the spool within its bounds, or unreadable
    refused: int = 0  # rejected by the server as a body: never sendable
    empty: int = 0  # intervals with no samples (not sent)
    last_error: str = ""

    def line(self) -> str:
        text = f"push · sent {self.sent} · spooled {self.spooled} · dropped {self.dropped}"
        if self.refused:
            text += f" · refused {self.refused}"
        if self.last_error:
            text += f" · last error: {self.last_error}"
        return text


class Pusher:
    """Sends a spool's files in order from one background thread."""

    def __init__(
        self,
        server: Server,
        spool: Spool,
        on_status: Callable[[PushStatus], None] = lambda _s: None,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        sender: Callable[[Server, Upload], None] = send,
    ) -> None:
        self.server = server
        self.spool = spool
        self.on_status = on_status
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._send = sender
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._final: PushStatus | None = None
        self.sent = 0
        self.refused = 0
        self.empty = 0
        self.unspooled = 0  # intervals that could not even be spooled
        self.last_error = ""

    # -- the recording side ---------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flametop-push", daemon=True)
        self._thread.start()

    def submit(self, upload: Upload) -> None:
        """Spool one interval and wake the sender."""
        try:
            with self._lock:
                self.spool.put(upload)
        except FlametopError as exc:  # the spool's disk is full or gone: count the loss
            self.unspooled += 1
            self.last_error = exc.message
        self._wake.set()
        self._report()

    def note_empty(self) -> None:
        self.empty += 1

    def stop(self, last_try: bool = True) -> PushStatus:
        """End the sender thread (waiting for a request in flight), then send what is
        left once, in order, up to the first failure."""
        if self._final is not None:
            return self._final
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if last_try:
            self._drain(once=True)
        self._final = self.status()
        self.spool.close()
        return self._final

    def status(self) -> PushStatus:
        with self._lock:
            waiting = len(self.spool.items())
            dropped = self.spool.dropped + self.unspooled
        return PushStatus(self.sent, waiting, dropped, self.refused, self.empty, self.last_error)

    # -- the sender -----------------------------------------------------------------

    def _report(self) -> None:
        self.on_status(self.status())

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            if backoff:
                # A new interval must not cut a backoff short: a server that is down
                # would otherwise be asked again every interval.
                self._stop.wait(backoff)
                if self._stop.is_set():
                    return
            self._wake.clear()  # before looking: a file spooled from now on wakes us
            outcome = self._drain(once=False)
            if outcome == "failed":
                backoff = min(self.max_backoff, max(self.first_backoff, backoff * 2))
            else:
                backoff = 0.0
                self._wake.wait()

    def _drain(self, once: bool) -> str:
        """Send spooled files oldest first. "done" when the spool is empty, "failed" at
        the first failure that may pass, "stopped" when asked to stop."""
        while True:
            if not once and self._stop.is_set():
                return "stopped"
            with self._lock:
                self.spool.trim()
                items = self.spool.items()
            if not items:
                return "done"
            if not self._send_one(items[0]):
                return "failed"

    def _send_one(self, item: SpoolItem) -> bool:
        upload = self.spool.load(item)
        if upload is None:
            self._report()
            return True
        try:
            self._send(self.server, upload)
        except UploadError as exc:
            self.last_error = exc.message
            if exc.keep:
                self._report()
                return False
            with self._lock:
                self.spool.remove(item)
            self.refused += 1
            self._report()
            return True
        with self._lock:
            self.spool.remove(item)
        self.sent += 1
        self.last_error = ""
        self._report()
        return True


class IntervalCutter:
    """Cuts batches into contiguous intervals of `every` seconds from `started`: a batch
    belongs to the interval in which it arrived, so none is counted twice or lost, and
    interval k spans [started + k·every, started + (k+1)·every] (the last one ends at stop)."""

    def __init__(
        self,
        pusher: Pusher,
        app: str,
        tags: tuple[tuple[str, str], ...],
        every: float,
        started: float,
        metadata: Callable[[float, float], Metadata],
    ) -> None:
        self.pusher = pusher
        self.app = app
        self.tags = tags
        self.every = every
        self.metadata = metadata  # (from, until) -> Metadata of that interval
        self.started = started
        self._from = started
        self._next_cut = started + every
        self._batches: list[SampleBatch] = []
        self.intervals = 0
        self.last_interval: Profile | None = None

    def add(self, batch: SampleBatch) -> None:
        self._batches.append(batch)

    def tick(self, now: float) -> None:
        """Cut every interval that has ended by `now`."""
        while now >= self._next_cut:
            self._cut(self._next_cut)
            self._next_cut += self.every

    def finish(self, now: float) -> None:
        """Cut the interval in progress (stop, signal, end of -d or of the target)."""
        self.tick(now)
        if now > self._from or self._batches:
            self._cut(max(now, self._from))

    def _cut(self, until: float) -> None:
        start, self._from = self._from, until
        batches, self._batches = tuple(self._batches), []
        self.intervals += 1
        profile = Profile(self.metadata(start, until), batches)
        if profile.in_mode().total == 0:
            self.pusher.note_empty()  # nothing sampled: pprof needs a sample
            return
        self.last_interval = profile
        self.pusher.submit(profile_upload(profile, self.app, self.tags, start, until))


@dataclass(frozen=True, slots=True)
class PushRequest:
    """What `record --server` needs besides the recording itself."""

    server: Server
    app: str
    spool_dir: str
    tags: tuple[tuple[str, str], ...] = ()
    every: float = 10.0
    max_spool_bytes: int = DEFAULT_MAX_BYTES
    max_spool_age: float = DEFAULT_MAX_AGE
    first_backoff: float = FIRST_BACKOFF
    max_backoff: float = MAX_BACKOFF


def open_pusher(req: PushRequest, on_status: Callable[[PushStatus], None]) -> Pusher:
    """Lock the spool and start sending (what a previous run left is sent first).
    Raises UsageError when the spool cannot be used."""
    spool = Spool(req.spool_dir, req.max_spool_bytes, req.max_spool_age)
    pusher = Pusher(req.server, spool, on_status, req.first_backoff, req.max_backoff)
    pusher.start()
    return pusher
