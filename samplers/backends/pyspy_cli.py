"""PySpySampler: live sampling by running `py-spy record --format raw` in back-to-back
chunks.

py-spy writes its output only when a run ends, so live sampling is chunked. A run ends
cleanly on SIGINT and still writes. Each new run spends 20-200 ms attaching before its
first sample, so the next run is started that long (the mean of recent runs) before the
current one is due to end, and the current one is interrupted only once the new one is
seen sampling (pyspy_run.PySpyRun.sampling_started): the two meet within a few
milliseconds whatever the start-up took, and their batches meet at that instant.
Measured on a loaded 2-core machine over 45 s at 100 Hz: 96-97% coverage (plain
`py-spy record` in the same run: 97-101%); runs started only when the previous one is
stopped reach 92-93%. The first sample comes within ~10 ms of the detected start.

Overlap: at a hand-over both runs sample from the new run's first sample until the old
one is interrupted; that is at most the /proc poll interval plus scheduling (measured
3.2-3.6 ms here), so at 100 Hz at most one extra sample per hand-over, ~0.2 on average.
They are distinct samples at distinct instants (nothing is counted twice), and that time
is added to `expected`, so coverage is not inflated by it. py-spy spaces samples at
random (exponential intervals, against aliasing), so a chunk's count varies by about
its square root: coverage over a few seconds can read a few percent above 100%.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from samplers.backends.lifecycle import SamplerLifecycle
from samplers.backends.pyspy_run import PySpyRun, estimate_ticks
from samplers.backends.pyspy_tool import classify_failure, find_pyspy, parse_run_summary
from samplers.errors import (
    FlametopError,
    SamplerFailedError,
    TargetNotFoundError,
)
from samplers.formats.pyspy_raw import parse_raw
from samplers.model import Health, SampleBatch, SamplingOptions
from samplers.target.system import check_target, process_alive, process_started_at

# Chunk length trades freshness for py-spy's start-up tax (~10 ms CPU a run). Children's
# CPU on a busy target at 100 Hz, 2-core box, median of 3: 1 s 4.2 %, 2 s 3.9 %, 3 s
# 3.3 % (one continuous py-spy: ~2.1 %). 1 s keeps the table and its per-second history
# as fresh as py-spy top's; 2 s would halve the refresh rate to save a tenth.
CHUNK_SECONDS = 1.0
# The first chunk is short so the first table fills a fraction of a second after py-spy
# starts sampling (the bench's start-up figure), then chunks settle at CHUNK_SECONDS.
FIRST_CHUNK_SECONDS = 0.25
HANG_SECONDS = 3.0  # a run that has not ended this long after SIGINT is killed
START_CHECK_SECONDS = 1.0  # py-spy reports a bad pid or no permission within ~0.4 s
BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0)  # after consecutive failures; then give up
LATENCY_WINDOW = 30  # runs averaged for the start-up latency (the hand-over lead)
POLL_SECONDS = 0.003  # how often a starting run is checked for its first sample
BLIND_AFTER = 3  # hand-overs without a sign of sampling before we stop waiting for one


class PySpySampler(SamplerLifecycle):
    """The Sampler protocol over py-spy. One thread owns the object; a background thread
    runs the chunks and hands finished SampleBatch objects over a queue."""

    label = "py-spy"

    def __init__(
        self,
        pid: int,
        options: SamplingOptions | None = None,
        *,
        chunk_seconds: float = CHUNK_SECONDS,
        first_chunk_seconds: float = FIRST_CHUNK_SECONDS,
        hang_seconds: float = HANG_SECONDS,
        backoff: tuple[float, ...] = BACKOFF,
    ) -> None:
        super().__init__()
        self.pid = pid
        self.chunk_seconds = chunk_seconds
        self.first_chunk_seconds = min(first_chunk_seconds, chunk_seconds)
        self.hang_seconds = hang_seconds
        self.backoff = backoff
        self._opts = options or SamplingOptions()
        self.check_supported(self._opts)
        self._pending = self._opts  # what the next run samples with
        self._exe = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._first: PySpyRun | None = None
        self._born: float | None = None  # the target's start time: tells a reused pid
        self._runs = 0
        self._latency = 0.08  # seconds from spawn to first sample; measured per run
        self.latencies: list[float] = []
        # Per hand-over, the longest the two runs can both have sampled (the new run's
        # first sample came after its last check that saw it idle): recent runs.
        self.overlap_bounds: list[float] = []
        self.overlap_seconds_total = 0.0  # estimated time sampled by two runs at once
        self._blind = 0  # consecutive hand-overs where the new run was not seen starting

    # -- the Sampler protocol -------------------------------------------------------
    @property
    def health(self) -> Health:
        return self._health(self._opts.rate)

    @property
    def options(self) -> SamplingOptions:
        return self._pending

    def configure(self, options: SamplingOptions) -> None:
        """Sample with `options` from the next chunk on."""
        self.check_supported(options)
        self._pending = options

    def start(self) -> None:
        """Check the target, start the first run, and raise the classified error if
        py-spy rejects the target (bad pid, no permission, not Python) straight away."""
        self._exe = find_pyspy()
        python_like = check_target(self.pid)
        self._born = process_started_at(self.pid)
        self._workdir = tempfile.TemporaryDirectory(prefix="flametop-")
        first = self._spawn()
        # py-spy's verdict on the target comes within ~0.4 s; a run seen sampling passed.
        deadline = time.monotonic() + START_CHECK_SECONDS
        # py-spy's main thread also wakes while it retries a non-Python target, so the
        # "seen sampling" sign is trusted only for a process that looks like Python.
        while time.monotonic() < deadline and not (python_like and first.sampling_started()):
            if first.done.wait(POLL_SECONDS):
                break
        if first.done.is_set() and first.returncode != 0:
            raw, out, err = first.text()
            self._workdir.cleanup()
            raise self._classify(err, out)
        self._first = first
        with self._lock:
            self._state = "running"
        self._thread = threading.Thread(target=self._loop, name="flametop-pyspy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Interrupt the current run and keep what it sampled: its batch is still
        delivered by poll()."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2 * self.hang_seconds + 2.0)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    # -- the chunk loop -------------------------------------------------------------
    def _spawn(self) -> PySpyRun:
        assert self._workdir is not None
        self._opts = self._pending
        self._runs += 1
        return PySpyRun(self._exe, self.pid, self._opts, Path(self._workdir.name), self._runs)

    def _classify(self, stderr: str, stdout: str) -> FlametopError:
        if not self._target_alive():
            return TargetNotFoundError(
                f"no process with pid {self.pid}: check the pid with `ps` (it may have exited)"
            )
        return classify_failure(self.pid, stderr, stdout)

    def _target_alive(self) -> bool:
        """The process we attached to still runs (not a later one with its pid)."""
        if not process_alive(self.pid):
            return False
        return self._born is None or process_started_at(self.pid) in (self._born, None)

    def _loop(self) -> None:
        try:
            self._run_chunks()
        except Exception as exc:  # a bug here must not leave poll() waiting forever
            self._finish("failed", SamplerFailedError(f"sampler thread failed: {exc!r}"))

    def _run_chunks(self) -> None:
        cur = self._first
        assert cur is not None
        boundary: float | None = None  # where cur's batch starts when handed over
        failures = 0
        first = True
        while True:
            length = self.first_chunk_seconds if first else self.chunk_seconds
            first = False
            due = (boundary or cur.started or cur.spawned + self._latency) + length
            nxt: PySpyRun | None = None
            # Wait until the next run should start, then until it is seen sampling: only
            # then is the current run interrupted, so the two meet within milliseconds.
            while not self._stop.is_set() and not cur.done.is_set():
                now = time.time()
                if cur.started is None:
                    cur.sampling_started()  # a fresh run: note when it began
                if nxt is None:
                    spawn_at = due - self._latency
                    if now < spawn_at:
                        self._stop.wait(min(spawn_at - now, 0.05))
                        continue
                    nxt = self._spawn()
                if nxt.done.is_set():
                    break
                if nxt.sampling_started():
                    self._blind = 0
                    break
                if now >= due + (0.0 if self._blind >= BLIND_AFTER else 2 * self._latency):
                    # No sign of sampling (a py-spy that behaves otherwise?): hand over
                    # blind, and at the estimated instant once that keeps happening.
                    self._blind += 1
                    break
                self._stop.wait(POLL_SECONDS)
            ended_early = cur.done.is_set() and cur.stop_sent is None
            if self._stop.is_set() and nxt is not None:
                self._discard(nxt)  # stopping: the freshly started run has nothing yet
                nxt = None
            t_end = cur.interrupt() if not ended_early else (cur.ended or time.time())
            if not cur.done.wait(self.hang_seconds):
                cur.kill()
                cur.done.wait(self.hang_seconds)
                self._note_error("py-spy hung and was killed; its chunk is lost")
            ok = self._deliver(cur, boundary, t_end)
            # Checked at every hand-over too: a pid reused by a new process must not
            # have the next run sample a stranger.
            target_gone = not self._target_alive()
            if target_gone or self._stop.is_set() or self._done.is_set() or not ok:
                if nxt is not None:
                    self._discard(nxt)
                    nxt = None
            if self._done.is_set():
                return  # _deliver found the target unreadable and said why
            if target_gone:
                self._finish("target-exited")
                return
            if self._stop.is_set():
                self._finish("stopped")
                return
            if ok:
                failures = 0
            else:
                failures += 1
                if failures > len(self.backoff):
                    last = self._errors[-1] if self._errors else "no message"
                    self._finish(
                        "failed",
                        SamplerFailedError(
                            f"py-spy failed {failures} times in a row; last: {last}"
                        ),
                    )
                    return
                with self._lock:
                    self._restarts += 1
                if self._stop.wait(self.backoff[failures - 1]):
                    self._finish("stopped")
                    return
            if nxt is None:
                nxt = self._spawn()
                boundary = None
            else:
                boundary = t_end
            cur = nxt

    def _discard(self, run: PySpyRun) -> None:
        run.kill()
        run.done.wait(self.hang_seconds)
        run.text()
        with self._lock:
            self._own_cpu += run.cpu_seconds

    def _deliver(self, run: PySpyRun, boundary: float | None, t_end: float) -> bool:
        """Parse a finished run, queue its batch, update health. False if it failed."""
        raw, out, err = run.text()
        summary = parse_run_summary(out)
        rate = run.opts.rate
        with self._lock:
            self._own_cpu += run.cpu_seconds
        if summary is None and run.returncode not in (0, None):
            error = self._classify(err, out)
            if self._chunks == 0 and not isinstance(error, SamplerFailedError):
                # The target was never readable: retrying will not help.
                self._finish("failed", error)
                self._stop.set()
            else:
                self._note_error(error.message)
            with self._lock:
                if self._t0 is not None:
                    lost = max(0.0, t_end - self._t_last)
                    self._count(t_end, 0, lost * rate)
                    self._gap_total += lost
                    self._last_gap = lost
                    self._t_last = t_end
            return False
        samples = parse_raw(raw, keep_thread_frame=run.opts.threads)
        # Same-named threads would add up: never claim more ticks than the run's life.
        # In cpu and gil mode py-spy writes (and counts: its "Samples:") only the on-CPU
        # or GIL-holding instants, so idle ones cannot be told from lost ones here:
        # Health.idle_unseen says so rather than calling idle time lost.
        ticks = min(estimate_ticks(samples, run.opts.mode), round((t_end - run.spawned) * rate))
        sampled_for = ticks / rate
        if run.started is not None:
            first_sample = run.started
            self.latencies.append(run.started - run.spawned)
            del self.latencies[:-LATENCY_WINDOW]
            self._latency = min(0.5, sum(self.latencies) / len(self.latencies))
        elif sampled_for >= 0.5 * (t_end - run.spawned):
            # Not seen starting: a busy run's sample count tells roughly when it began.
            first_sample = t_end - sampled_for
        else:
            first_sample = run.spawned + self._latency
        first_sample = min(t_end, max(run.spawned, first_sample))
        # Seen sampling at `started`, it began after its last idle check: half of that
        # stretch (on average) it sampled before `started`; a handed-over run also
        # sampled until the previous run was interrupted at `boundary`. Both runs then
        # took distinct samples at distinct instants (none is counted twice), so that
        # time is asked for twice: counted in `expected`, coverage stays honest.
        overlap = 0.0
        if run.started is not None:
            overlap = (run.started - run.not_started_at) / 2
            if boundary is not None:
                overlap += max(0.0, boundary - run.started)
                self.overlap_bounds.append(max(0.0, boundary - run.not_started_at))
                del self.overlap_bounds[:-LATENCY_WINDOW]
        t_start = boundary if boundary is not None else first_sample
        notes: tuple[str, ...] = ()
        if summary and summary.errors:
            notes = (f"py-spy sampling errors: {summary.errors}",)
        batch = SampleBatch(
            t_start=t_start,
            t_end=t_end,
            samples=samples,
            mode=run.opts.mode,
            rate=rate,
            notes=notes,
        )
        with self._lock:
            if self._t0 is None:
                self._t0 = self._t_last = t_start
            gap = max(0.0, t_start - self._t_last)  # time no batch covers
            if boundary is not None:
                # A handed-over run that started sampling after the boundary left a gap.
                gap += max(0.0, first_sample - boundary)
            self._count(t_end, ticks, (max(0.0, t_end - self._t_last) + overlap) * rate)
            self.overlap_seconds_total += overlap
            self._gap_total += gap
            self._last_gap = gap
            self._t_last = t_end
            self._chunks += 1
        self._queue.put(batch)
        if self.on_news is not None:
            self.on_news()
        return True
